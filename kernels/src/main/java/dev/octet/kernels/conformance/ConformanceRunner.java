package dev.octet.kernels.conformance;

import dev.octet.kernels.KernelPool;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code java -jar octet-conformance.jar <path>/bnb_golden}: checks every map, block-wise vector and
 * optimizer trajectory in a reference file, prints a table, and exits 1 if anything falls short
 * (2 on a usage or file error).
 */
public final class ConformanceRunner {

    private ConformanceRunner() {
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: java -jar octet-conformance.jar <path>/<reference> "
                    + "(the pair <reference>.json and <reference>.bin)");
            System.exit(2);
        }
        List<Conformance.Row> rows;
        try {
            ReferenceFile reference = ReferenceFile.open(Path.of(args[0]));
            System.out.println("octet conformance against " + reference.base());
            rows = new Conformance(reference, KernelPool.shared()).run();
        } catch (Exception e) {
            System.err.println("octet conformance: " + e.getMessage());
            System.exit(2);
            return;
        }
        int width = rows.stream().mapToInt(r -> r.subject().length()).max().orElse(10);
        int failed = 0;
        for (Conformance.Row row : rows) {
            System.out.printf("%-4s  %-" + width + "s  %s%n", row.pass() ? "ok" : "FAIL", row.subject(), row.detail());
            if (!row.pass()) {
                failed++;
            }
        }
        System.out.printf("%d checks, %d failed%n", rows.size(), failed);
        System.exit(failed == 0 ? 0 : 1);
    }
}
