package dev.octet.examples.dl4j;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Starts a job from its own class loader, as fat-jar launchers and Spark executors do: DL4J is then
 * not on the system class path, only in this child loader. Arguments: the job's class path
 * (entries separated by the path separator; a trailing {@code *} takes every jar of a folder), the main
 * class, then the job's own arguments.
 */
public final class ChildLoaderLauncher {

    private ChildLoaderLauncher() {
    }

    public static void main(String[] args) throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : args[0].split(File.pathSeparator)) {
            if (entry.endsWith("*")) {
                File[] jars = new File(entry.substring(0, entry.length() - 1)).listFiles((d, n) -> n.endsWith(".jar"));
                for (File jar : jars) {
                    urls.add(jar.toURI().toURL());
                }
            } else {
                urls.add(new File(entry).toURI().toURL());
            }
        }
        try (URLClassLoader job = new URLClassLoader("job", urls.toArray(new URL[0]), ClassLoader.getSystemClassLoader())) {
            Thread.currentThread().setContextClassLoader(job);
            Class<?> main = job.loadClass(args[1]);
            main.getMethod("main", String[].class).invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
        }
    }
}
