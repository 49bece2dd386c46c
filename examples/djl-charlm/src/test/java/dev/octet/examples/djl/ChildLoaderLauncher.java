package dev.octet.examples.djl;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs a job from a class loader of its own (as fat-jar launchers do), so DJL is not on the system
 * class path. Arguments: the job's class path (a trailing {@code *} takes a folder's jars), the main
 * class, then the job's arguments.
 */
public final class ChildLoaderLauncher {

    private ChildLoaderLauncher() {
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
        try (URLClassLoader loader = new URLClassLoader("djl-job", urls.toArray(new URL[0]), ClassLoader.getSystemClassLoader())) {
            Thread.currentThread().setContextClassLoader(loader);
            loader.loadClass(args[1]).getMethod("main", String[].class).invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
        }
    }
}
