package dev.octet.examples.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Packs a job as Spring Boot's build plugins pack an executable jar: Spring Boot's launcher classes at the
 * root, the job's classes under {@code BOOT-INF/classes/}, its dependency jars stored (uncompressed, as the
 * launcher requires) under {@code BOOT-INF/lib/}, and a manifest whose {@code Main-Class} is the launcher
 * and whose {@code Start-Class} is the job. Started with {@code java -jar}, the launcher loads the job and
 * its jars from the nested jars in a class loader of its own. {@code loaderJar} is Spring Boot's
 * {@code spring-boot-loader} jar (the caller's test class path has it: {@link #loaderJar}).
 */
public final class BootJar {

    public static final String LAUNCHER = "org.springframework.boot.loader.launch.JarLauncher";

    private BootJar() {
    }

    /** The jar that holds Spring Boot's launcher, as the caller's class loader finds it. */
    public static Path loaderJar() throws ReflectiveOperationException, java.net.URISyntaxException {
        return Path.of(Class.forName(LAUNCHER).getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    public static void write(Path target, Path loaderJar, Path classes, List<Path> jars, String startClass) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.put(Attributes.Name.MAIN_CLASS, LAUNCHER);
        main.putValue("Start-Class", startClass);
        main.putValue("Spring-Boot-Classes", "BOOT-INF/classes/");
        main.putValue("Spring-Boot-Lib", "BOOT-INF/lib/");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(target), manifest);
                ZipFile loader = new ZipFile(loaderJar.toFile())) {
            for (ZipEntry e : Collections.list(loader.entries())) {
                if (!e.isDirectory() && !e.getName().startsWith("META-INF/")) {
                    try (InputStream in = loader.getInputStream(e)) {
                        out.putNextEntry(new JarEntry(e.getName()));
                        in.transferTo(out);
                        out.closeEntry();
                    }
                }
            }
            // The launcher finds the job's classes by the directory entry BOOT-INF/classes/, as the build plugins write it.
            for (String dir : List.of("BOOT-INF/", "BOOT-INF/classes/", "BOOT-INF/lib/")) {
                out.putNextEntry(new JarEntry(dir));
                out.closeEntry();
            }
            try (Stream<Path> files = Files.walk(classes)) {
                for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                    out.putNextEntry(new JarEntry("BOOT-INF/classes/" + classes.relativize(f).toString().replace('\\', '/')));
                    Files.copy(f, out);
                    out.closeEntry();
                }
            }
            for (Path jar : jars) {
                byte[] bytes = Files.readAllBytes(jar);
                CRC32 crc = new CRC32();
                crc.update(bytes);
                JarEntry stored = new JarEntry("BOOT-INF/lib/" + jar.getFileName());
                stored.setMethod(ZipEntry.STORED);
                stored.setSize(bytes.length);
                stored.setCompressedSize(bytes.length);
                stored.setCrc(crc.getValue());
                out.putNextEntry(stored);
                out.write(bytes);
                out.closeEntry();
            }
        }
    }
}
