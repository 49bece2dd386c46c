package dev.octet.examples.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link AdamStepBenchmark} and prints its results as ns per parameter and GB/s of bytes moved,
 * with the 8-bit/32-bit speed ratio per row and each row's time over the 8-bit step's memory floor
 * (16 bytes per parameter at the copy's bandwidth in the same run). JMH options may be passed as usual
 * (e.g. {@code -p size=16777216 -p threads=1 -wi 2 -i 3}).
 */
public final class KernelBenchmarkTable {

    private KernelBenchmarkTable() {
    }

    public static void main(String[] args) throws Exception {
        var cli = new CommandLineOptions(args);
        var options = new OptionsBuilder().parent(cli).include(AdamStepBenchmark.class.getSimpleName()).build();
        Collection<RunResult> results = new Runner(options).run();

        record Row(String benchmark, int size, int threads, double msPerStep, double msError) {
        }
        List<Row> rows = new ArrayList<>();
        for (RunResult r : results) {
            var params = r.getParams();
            String name = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
            rows.add(new Row(name, Integer.parseInt(params.getParam("size")), Integer.parseInt(params.getParam("threads")),
                    r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()));
        }
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.println();
        System.out.println("| parameters | threads | update | bytes/param | ms/step | ns/param | GB/s | vs float32 Adam | x the 16-byte floor |");
        System.out.println("|---:|---:|---|---:|---:|---:|---:|---:|---:|");
        for (Row row : rows) {
            double bytes = bytesPerParameter(row.benchmark());
            double nsPerParam = row.msPerStep() * 1e6 / row.size();
            double gbs = bytes * row.size() / (row.msPerStep() * 1e-3) / 1e9;
            String ratio = rows.stream()
                    .filter(o -> o.benchmark().equals("adam32bitPlainJava") && o.size() == row.size()
                            && o.threads() == row.threads())
                    .findFirst()
                    .map(o -> String.format(Locale.ROOT, "%.2fx", o.msPerStep() / row.msPerStep()))
                    .orElse("");
            // The memory floor of an 8-bit step: 16 bytes per parameter at the copy's bandwidth of this run
            // (the copy moves 8), i.e. twice the copy's time per parameter.
            String floor = rows.stream()
                    .filter(o -> o.benchmark().equals("copy") && o.size() == row.size() && o.threads() == row.threads())
                    .findFirst()
                    .map(o -> String.format(Locale.ROOT, "%.2fx", row.msPerStep() / (2 * o.msPerStep())))
                    .orElse("");
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %.2f | %.2f ± %.2f | %.3f | %.1f | %s | %s |%n",
                    megas(row.size()), row.threads() == 0 ? "all (" + cores + ")" : row.threads(), row.benchmark(),
                    bytes, row.msPerStep(), row.msError(), nsPerParam, gbs, ratio, floor);
        }
    }

    static double bytesPerParameter(String benchmark) {
        return switch (benchmark) {
            case "adam8bit", "adam8bitVector" -> 16 + 2 * 8.0 / AdamStepBenchmark.BLOCK_SIZE;
            case "adam32bitPlainJava" -> 28;
            case "copy" -> 8;
            default -> Double.NaN;
        };
    }

    private static String megas(int size) {
        return (size >> 20) + "M";
    }
}
