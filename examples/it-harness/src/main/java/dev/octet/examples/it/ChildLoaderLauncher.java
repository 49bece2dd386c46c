package dev.octet.examples.it;

import java.io.File;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Starts a job from a class loader of its own, as fat-jar launchers and Spark executors do: the framework
 * is then not on the system class path, only in this child loader (also the thread's context loader).
 * Arguments: the job's class path (entries separated by the path separator; a trailing {@code *} takes
 * every jar of a folder), the main class, then the job's own arguments.
 */
public final class ChildLoaderLauncher {

    private ChildLoaderLauncher() {
    }

    /** Where this class is, for the child JVM's class path (a folder in the build, else the harness jar). */
    public static String classPath() {
        try {
            return Path.of(ChildLoaderLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void main(String[] args) throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : args[0].split(File.pathSeparator)) {
            File[] files = entry.endsWith("*")
                    ? new File(entry.substring(0, entry.length() - 1)).listFiles((dir, name) -> name.endsWith(".jar"))
                    : new File[] {new File(entry)};
            for (File f : files) {
                urls.add(f.toURI().toURL());
            }
        }
        try (URLClassLoader job = new URLClassLoader("job", urls.toArray(new URL[0]), ClassLoader.getSystemClassLoader())) {
            Thread.currentThread().setContextClassLoader(job);
            job.loadClass(args[1]).getMethod("main", String[].class).invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
        }
    }
}
