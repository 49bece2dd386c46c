package dev.octet.examples.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What the agent costs a program that uses neither DL4J nor DJL: {@link Hello} started {@code runs}
 * times without and with {@code -javaagent}, alternately; prints the median wall time and the median
 * peak memory (the JVM's own VmHWM, which Hello prints) of each, and the differences.
 *
 * <pre>java -cp kernel-benchmarks.jar dev.octet.examples.bench.StartupBenchmark agent/target/octet-agent.jar [runs]</pre>
 */
public final class StartupBenchmark {

    private StartupBenchmark() {
    }

    /** The program measured: prints its peak resident memory in KiB. */
    public static final class Hello {
        public static void main(String[] args) throws IOException {
            String hwm = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmHWM:"))
                    .findFirst().orElse("VmHWM: 0 kB");
            System.out.println("hello " + hwm.replaceAll("[^0-9]", ""));
        }
    }

    public static void main(String[] args) throws Exception {
        String agent = args[0];
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        List<double[]> plain = new ArrayList<>();
        List<double[]> withAgent = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            plain.add(run(List.of()));
            withAgent.add(run(List.of("-javaagent:" + agent)));
        }
        double[] p = medians(plain);
        double[] a = medians(withAgent);
        System.out.printf(Locale.ROOT, "Hello World, median of %d runs each: without the agent %.3f s, %.1f MB;"
                + " with it %.3f s, %.1f MB; the agent costs +%.3f s and +%.1f MB%n", runs, p[0], p[1], a[0], a[1],
                a[0] - p[0], a[1] - p[1]);
    }

    /** Wall seconds and peak MB of one start. */
    private static double[] run(List<String> jvmArgs) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Hello.class.getName()));
        long start = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0 || !out.contains("hello ")) {
            throw new IllegalStateException("the program failed: " + out);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        String kib = out.substring(out.indexOf("hello ") + 6).trim().split("\\s+")[0];
        return new double[] {seconds, Long.parseLong(kib) / 1024.0};
    }

    private static double[] medians(List<double[]> samples) {
        double[] out = new double[2];
        for (int k = 0; k < 2; k++) {
            List<Double> values = new ArrayList<>();
            for (double[] s : samples) {
                values.add(s[k]);
            }
            Collections.sort(values);
            out[k] = values.get(values.size() / 2);
        }
        return out;
    }
}
