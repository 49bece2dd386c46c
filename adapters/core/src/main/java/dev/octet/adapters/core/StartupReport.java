package dev.octet.adapters.core;

import dev.octet.kernels.CpuCodec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The table octet prints when a framework creates its optimizer: one row per parameter (shape,
 * elements, updater, how its state is stored, the rule that decided it, bytes before and after),
 * then the totals and the share of optimizer-state memory saved.
 */
public final class StartupReport {

    /** One parameter's line. */
    public record Row(String parameter, long[] shape, String updater, String format, String reason,
            long bytesBefore, long bytesAfter) {

        long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private final String title;
    private final List<Row> rows = new ArrayList<>();
    /** Where the state lives when not in host memory, e.g. "in GPU memory (cuda:0 ...)". */
    private String where = "";

    public StartupReport(String title) {
        this.title = title;
    }

    public void where(String where) {
        this.where = " " + where;
    }

    public void add(Row row) {
        rows.add(row);
    }

    public long bytesBefore() {
        return rows.stream().mapToLong(Row::bytesBefore).sum();
    }

    public long bytesAfter() {
        return rows.stream().mapToLong(Row::bytesAfter).sum();
    }

    public String render() {
        String[] header = {"parameter", "shape", "elements", "updater", "state", "bytes before", "bytes after", "decided by"};
        List<String[]> lines = new ArrayList<>();
        lines.add(header);
        for (Row r : rows) {
            lines.add(new String[] {r.parameter(), Arrays.toString(r.shape()), group(r.elements()), r.updater(),
                    r.format(), group(r.bytesBefore()), group(r.bytesAfter()), r.reason()});
        }
        int[] width = new int[header.length];
        for (String[] line : lines) {
            for (int c = 0; c < line.length; c++) {
                width[c] = Math.max(width[c], line[c].length());
            }
        }
        StringBuilder out = new StringBuilder(title).append(System.lineSeparator());
        for (String[] line : lines) {
            StringBuilder row = new StringBuilder("  ");
            for (int c = 0; c < line.length; c++) {
                boolean number = c == 2 || c == 5 || c == 6;
                String cell = number ? pad(line[c], width[c], true) : pad(line[c], width[c], false);
                row.append(cell).append(c + 1 < line.length ? "  " : "");
            }
            out.append(row.toString().stripTrailing()).append(System.lineSeparator());
        }
        if (where.isEmpty()) {
            // Which implementation runs the 8-bit steps on the CPU (the SIMD one needs a JVM flag).
            out.append("  CPU codec: ").append(CpuCodec.description()).append(System.lineSeparator());
        }
        long before = bytesBefore();
        long after = bytesAfter();
        double saved = before == 0 ? 0 : 100.0 * (before - after) / before;
        out.append(String.format(Locale.ROOT, "  total optimizer state%s: %s bytes -> %s bytes (%.1f%% saved)",
                where, group(before), group(after), saved));
        return out.toString();
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(width - s.length());
        return right ? fill + s : s + fill;
    }

    static String group(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
