package dev.octet.examples.dl4j;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Packs a job the way maven-shade does for an uber jar: the classes of a folder and every entry of
 * the jars in one jar, the first of duplicate entries kept, {@code META-INF/services} files merged,
 * signatures dropped, and whatever {@code keep} refuses left out (as the common {@code META-INF/maven/**}
 * exclusion of Spark jobs' jars).
 */
final class UberJar {

    private UberJar() {
    }

    static void write(Path target, Path classes, List<Path> jars, Predicate<String> keep) throws IOException {
        Set<String> written = new HashSet<>();
        Map<String, ByteArrayOutputStream> services = new LinkedHashMap<>();
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(target))) {
            out.setLevel(Deflater.BEST_SPEED);
            try (Stream<Path> files = Files.walk(classes)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    String name = classes.relativize(f).toString().replace('\\', '/');
                    try (InputStream in = Files.newInputStream(f)) {
                        copy(name, in, out, written, services, keep);
                    }
                }
            }
            for (Path jar : jars) {
                try (ZipFile zip = new ZipFile(jar.toFile())) {
                    for (ZipEntry e : Collections.list(zip.entries())) {
                        if (!e.isDirectory()) {
                            try (InputStream in = zip.getInputStream(e)) {
                                copy(e.getName(), in, out, written, services, keep);
                            }
                        }
                    }
                }
            }
            for (Map.Entry<String, ByteArrayOutputStream> s : services.entrySet()) {
                out.putNextEntry(new ZipEntry(s.getKey()));
                s.getValue().writeTo(out);
                out.closeEntry();
            }
        }
    }

    private static void copy(String name, InputStream in, ZipOutputStream out, Set<String> written,
            Map<String, ByteArrayOutputStream> services, Predicate<String> keep) throws IOException {
        String upper = name.toUpperCase(java.util.Locale.ROOT);
        if (!keep.test(name) || name.equals("META-INF/MANIFEST.MF")
                || (upper.startsWith("META-INF/") && (upper.endsWith(".SF") || upper.endsWith(".RSA") || upper.endsWith(".DSA")))) {
            return;
        }
        if (name.startsWith("META-INF/services/")) {
            OutputStream merged = services.computeIfAbsent(name, k -> new ByteArrayOutputStream());
            in.transferTo(merged);
            merged.write('\n');
            return;
        }
        if (written.add(name)) {
            out.putNextEntry(new ZipEntry(name));
            in.transferTo(out);
            out.closeEntry();
        }
    }

    /** The jars of a folder, in name order. */
    static List<Path> jarsIn(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return new ArrayList<>(files.filter(p -> p.toString().endsWith(".jar")).sorted().toList());
        }
    }
}
