package dev.octet.policy;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Where the start-up report (one line per parameter with its {@link Decision}) goes, written in a
 * policy as {@code log}, {@code stderr}, {@code stdout} or {@code file:<path>}.
 *
 * @param kind the destination
 * @param path the file to write for {@link Kind#FILE} (relative paths are resolved against the
 *             job's working directory), {@code null} for every other kind
 */
public record ReportTarget(Kind kind, Path path) {

    /** Where a report can go. */
    public enum Kind { LOG, STDERR, STDOUT, FILE }

    public static final ReportTarget LOG = new ReportTarget(Kind.LOG, null);

    private static final String FILE_PREFIX = "file:";
    private static final String ACCEPTED = "Use log, stderr, stdout or file:<path>";

    public ReportTarget {
        Objects.requireNonNull(kind, "kind");
        if ((kind == Kind.FILE) != (path != null)) {
            throw new IllegalArgumentException("a path is required for FILE and only for FILE, got " + kind + " " + path);
        }
    }

    /** Reads the policy notation; throws an IllegalArgumentException saying what is accepted. */
    public static ReportTarget parse(String text) {
        if (text.startsWith(FILE_PREFIX)) {
            String file = text.substring(FILE_PREFIX.length());
            if (file.isBlank()) {
                throw new IllegalArgumentException("report 'file:' names no file. Write the path after it, e.g. file:octet-report.txt");
            }
            try {
                return new ReportTarget(Kind.FILE, Path.of(file));
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException("report file '" + file + "' is not a valid path: " + e.getReason() + ". " + ACCEPTED);
            }
        }
        for (Kind kind : Kind.values()) {
            if (kind != Kind.FILE && text.equals(kind.name().toLowerCase(Locale.ROOT))) {
                return new ReportTarget(kind, null);
            }
        }
        throw new IllegalArgumentException("report '" + text + "' is not supported. " + ACCEPTED);
    }

    /** The policy notation, which {@link #parse} reads back. */
    @Override
    public String toString() {
        return kind == Kind.FILE ? FILE_PREFIX + path : kind.name().toLowerCase(Locale.ROOT);
    }
}
