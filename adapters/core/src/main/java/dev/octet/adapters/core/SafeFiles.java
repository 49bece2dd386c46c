package dev.octet.adapters.core;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Writing files a job's user, or someone else with write access to the folder, could have prepared:
 * a file is written whole under a new, unpredictable name in its folder (created, never opened through a
 * link), then moved over the target, so a failure leaves the old file as it was and a link planted at
 * the target is replaced rather than followed.
 */
public final class SafeFiles {

    private SafeFiles() {
    }

    /** Writes what {@code writer} writes into {@code target}, all or nothing. */
    public static void replace(Path target, Writer writer) throws IOException {
        Path folder = target.toAbsolutePath().getParent();
        Path temporary = folder.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(temporary, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                writer.write(out);
            }
            try {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** Appends {@code text} to {@code file}, creating it; refuses (IOException) where {@code file} is a link. */
    public static void append(Path file, String text) throws IOException {
        if (Files.isSymbolicLink(file)) {
            throw new IOException(file + " is a symbolic link, which octet does not write through");
        }
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            out.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    /** What writes a file's content. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }
}
