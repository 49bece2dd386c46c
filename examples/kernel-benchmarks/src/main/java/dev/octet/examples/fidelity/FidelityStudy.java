package dev.octet.examples.fidelity;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/**
 * The fidelity study (docs/fidelity): trains the examples' char-LMs in child JVMs, with and
 * without {@code -javaagent:octet-agent.jar}, over several seeds, and writes a Markdown report and PNG
 * plots. Run from the project root after {@code mvn -B -DskipTests install}:
 *
 * <pre>
 * java -cp examples/kernel-benchmarks/target/kernel-benchmarks.jar dev.octet.examples.fidelity.FidelityStudy \
 *     [--studies ablation,parity,memory] [--seeds 5] [--dl4j-steps 200] [--djl-steps 1500] \
 *     [--dl4j-model "--hidden 128 --seq 32 --batch 32"] [--out docs/fidelity] [--runs target/fidelity-runs] \
 *     [--report-only false] [--frameworks dl4j,djl] [--configs all] [--parallel 1] [--ran-on "this machine"]
 * </pre>
 *
 * {@code --frameworks} leaves one example's runs out; {@code --configs} keeps only the named configurations
 * (e.g. {@code linear-tensor,dynamic-tensor,dynamic-block}: the ablation's variants without the parity runs
 * it shares); {@code --parallel n} runs n children at once (each has
 * one thread, so n up to the machine's free cores: the runs of a many-core machine finish together);
 * {@code --ran-on} names the machine in the report, when it is written ({@code --report-only true}) from runs
 * made on another.
 *
 * <ul>
 *   <li><b>parity</b>: DL4J and DJL char-LM, each plain (no agent), octet 8-bit (the example's own policy)
 *       and octet float32 (docs/fidelity/policies/*-32bit.yaml: the same stable embedding, 32-bit state);
 *       final loss (mean over the last 10% of steps), held-out loss (200,000 characters after the text
 *       trained on), divergences (a NaN/Inf loss, or one above twice the first step's), loss curves.
 *   <li><b>ablation</b> (DL4J): 8-bit linear map with one scale per tensor, dynamic map per tensor,
 *       dynamic per block, and the last with a stable embedding (= parity's octet 8-bit runs). The linear
 *       map and tensor-wise scaling are the kernels' experiment switches ({@code -Doctet.experiment.map},
 *       {@code -Doctet.experiment.scaling}), not policy keys.
 *   <li><b>memory</b>: optimizer-state bytes (octet's start-up report) and the process's peak resident
 *       memory (VmHWM, read from /proc while it runs), 32-bit vs 8-bit, for the parity runs and for
 *       UpdaterStepBenchmark's large DL4J network.
 * </ul>
 *
 * Each child's output is kept in the runs folder ({@code <key>.log}, the key e.g. {@code djl-octet8-1500-s3}, {@code .peak} in KiB, {@code .time} in
 * seconds); a run whose files are there is not run again, so an interrupted study resumes.
 */
public final class FidelityStudy {

    private static final String AGENT = "agent/target/octet-agent.jar";
    private static final String DL4J = "examples/dl4j-charlm";
    private static final String DJL = "examples/djl-charlm";
    private static final int HELDOUT_BATCHES = 20;
    private static final Pattern STEP = Pattern.compile("^step (\\d+) loss (\\S+)");
    private static final Pattern HELDOUT = Pattern.compile("^heldout loss (\\S+)");
    private static final Pattern STATE = Pattern.compile("total optimizer state: ([\\d,]+) bytes -> ([\\d,]+) bytes");
    private static final Pattern BENCH = Pattern.compile("^result params=(\\d+) stateBytes=(\\d+) .*peakRssKiB=(\\d+)");

    private final Map<String, String> options;
    private final Path runs;
    private final Path out;
    private final int seeds;
    private final int dl4jSteps;
    private final int djlSteps;
    private final List<String> dl4jModel;
    private final List<String> frameworks;
    /** The configurations to run, or null for all. */
    private final List<String> configs;
    private final int parallel;
    private final List<Run> plan = new ArrayList<>();
    private final long started = System.nanoTime();
    private final AtomicInteger done = new AtomicInteger();

    /** One child JVM: its key (file names), framework, configuration, seed and command line. */
    record Run(String key, String framework, String config, int seed, int steps, List<String> jvm, List<String> cp,
            String main, List<String> args) {
    }

    /** What a finished run's files say. */
    record Result(Run run, double[] losses, double heldout, long stateBefore, long stateAfter, long peakKiB,
            double seconds, int exit) {

        boolean diverged() {
            if (losses.length == 0 || !Double.isFinite(heldout)) {
                return true;
            }
            for (double l : losses) {
                if (!Double.isFinite(l) || l > 2 * losses[0]) {
                    return true;
                }
            }
            return false;
        }

        double finalLoss() {
            int tail = Math.max(1, (int) Math.ceil(losses.length * 0.1));
            double sum = 0;
            for (int i = losses.length - tail; i < losses.length; i++) {
                sum += losses[i];
            }
            return sum / tail;
        }
    }

    private FidelityStudy(Map<String, String> options) {
        this.options = options;
        this.runs = Path.of(options.getOrDefault("runs", "target/fidelity-runs"));
        this.out = Path.of(options.getOrDefault("out", "docs/fidelity"));
        this.seeds = Integer.parseInt(options.getOrDefault("seeds", "5"));
        this.dl4jSteps = Integer.parseInt(options.getOrDefault("dl4j-steps", "200"));
        this.djlSteps = Integer.parseInt(options.getOrDefault("djl-steps", "1500"));
        this.dl4jModel = List.of(options.getOrDefault("dl4j-model", "--hidden 128 --seq 32 --batch 32").trim().split("\\s+"));
        this.frameworks = List.of(options.getOrDefault("frameworks", "dl4j,djl").split(","));
        this.configs = options.containsKey("configs") ? List.of(options.get("configs").split(",")) : null;
        this.parallel = Integer.parseInt(options.getOrDefault("parallel", "1"));
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value, got " + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        new FidelityStudy(options).study();
    }

    private void study() throws Exception {
        List<String> studies = List.of(options.getOrDefault("studies", "ablation,parity,memory").split(","));
        if (!Files.isRegularFile(Path.of(AGENT))) {
            throw new IllegalStateException("run from the project root after mvn -DskipTests install: no " + AGENT);
        }
        Files.createDirectories(runs);
        Files.createDirectories(out);
        String p8 = "docs/fidelity/policies/dl4j-8bit-no-stable-embedding.yaml";
        String dl4jDemo = DL4J + "/charlm-policy.yaml";
        boolean ablation = studies.contains("ablation");
        boolean parity = studies.contains("parity");
        boolean memory = studies.contains("memory");
        for (int s = 1; s <= seeds; s++) {
            if (ablation) {
                plan.add(dl4j("linear-tensor", s, List.of("-Doctet.experiment.map=linear", "-Doctet.experiment.scaling=tensor",
                        agent(p8))));
                plan.add(dl4j("dynamic-tensor", s, List.of("-Doctet.experiment.scaling=tensor", agent(p8))));
                plan.add(dl4j("dynamic-block", s, List.of(agent(p8))));
            }
            if (ablation || parity) {
                plan.add(dl4j("octet8", s, List.of(agent(dl4jDemo))));
            }
        }
        if (parity || memory) {
            for (int s = 1; s <= seeds; s++) {
                plan.add(dl4j("plain", s, List.of()));
                plan.add(dl4j("octet32", s, List.of(agent("docs/fidelity/policies/dl4j-32bit.yaml"))));
                if (memory && !parity) {
                    break;
                }
            }
            for (int s = 1; s <= seeds; s++) {
                plan.add(djl("plain", s, List.of()));
                plan.add(djl("octet8", s, List.of(agent(DJL + "/charlm-policy.yaml"))));
                plan.add(djl("octet32", s, List.of(agent("docs/fidelity/policies/djl-32bit.yaml"))));
                if (memory && !parity) {
                    break;
                }
            }
        }
        if (memory) {
            for (boolean octet : new boolean[] {false, true}) {
                plan.add(new Run("dl4j-large-" + (octet ? "octet8" : "plain"), "dl4j", octet ? "octet8" : "plain", 0, 0,
                        octet ? List.of(agent(null)) : List.of(), classPath(DL4J), "com.example.charlm.bench.UpdaterStepBenchmark",
                        List.of("large", "5")));
            }
        }
        plan.removeIf(run -> !frameworks.contains(run.framework()) || configs != null && !configs.contains(run.config()));
        System.out.printf(Locale.ROOT, "fidelity study: %d child JVMs (%s), DL4J %d steps (%s), DJL %d steps, %d seeds, "
                + "%d at a time; logs in %s%n", plan.size(), String.join(",", studies), dl4jSteps, String.join(" ", dl4jModel),
                djlSteps, seeds, parallel, runs);
        List<Result> results = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        try {
            List<Future<Result>> running = new ArrayList<>();
            for (Run run : plan) {
                running.add(pool.submit(() -> run(run)));
            }
            for (Future<Result> f : running) {
                Result r = f.get();
                if (r != null) {
                    results.add(r);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        StringBuilder md = new StringBuilder();
        header(md, studies);
        if (ablation) {
            ablationSection(md, results);
        }
        if (parity) {
            paritySection(md, results, "dl4j");
            paritySection(md, results, "djl");
        }
        if (memory) {
            memorySection(md, results);
        }
        timeSection(md, results);
        Path report = out.resolve("training-report.md");
        Files.writeString(report, md.toString(), StandardCharsets.UTF_8);
        System.out.printf(Locale.ROOT, "wrote %s (%.1f min)%n", report, (System.nanoTime() - started) / 6e10);
    }

    private static String agent(String policy) {
        return "-javaagent:" + AGENT + (policy == null ? "" : "=policy=" + policy);
    }

    private static List<String> classPath(String module) {
        return List.of(module + "/target/classes", module + "/target/lib/*");
    }

    private Run dl4j(String config, int seed, List<String> jvm) {
        List<String> args = new ArrayList<>(dl4jModel);
        args.addAll(List.of("--steps", Integer.toString(dl4jSteps), "--every", "1", "--heldout", Integer.toString(HELDOUT_BATCHES),
                "--seed", Integer.toString(seed)));
        return new Run("dl4j-" + config + "-" + dl4jSteps + "-s" + seed, "dl4j", config, seed, dl4jSteps, jvm, classPath(DL4J),
                "com.example.charlm.CharLanguageModel", args);
    }

    private Run djl(String config, int seed, List<String> agent) {
        List<String> jvm = new ArrayList<>(List.of("-Dai.djl.offline=true", "-DDJL_CACHE_DIR=" + DJL + "/target/djl-cache",
                "-DENGINE_CACHE_DIR=" + DJL + "/target/djl-cache", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-Dorg.slf4j.simpleLogger.log.octet=info"));
        jvm.addAll(agent);
        List<String> args = List.of("--steps", Integer.toString(djlSteps), "--every", "1", "--heldout",
                Integer.toString(HELDOUT_BATCHES), "--seed", Integer.toString(seed));
        return new Run("djl-" + config + "-" + djlSteps + "-s" + seed, "djl", config, seed, djlSteps, jvm, classPath(DJL),
                "com.example.djlcharlm.DjlCharLanguageModel", args);
    }

    private List<String> command(Run run) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx1g");
        command.addAll(run.jvm());
        if (run.jvm().stream().anyMatch(a -> a.startsWith("-javaagent:"))) {
            command.add("-Doctet.threads=1");
        }
        command.add("-cp");
        command.add(String.join(File.pathSeparator, run.cp()));
        command.add(run.main());
        command.addAll(run.args());
        return command;
    }

    /**
     * Runs the child (unless its files are there), printing progress, and reads its files; with
     * {@code --report-only true}, a run not yet made is left out (null).
     */
    private Result run(Run run) throws Exception {
        Path log = runs.resolve(run.key() + ".log");
        Path peak = runs.resolve(run.key() + ".peak");
        Path time = runs.resolve(run.key() + ".time");
        int index = done.incrementAndGet();
        boolean finished = Files.isRegularFile(peak) && Files.isRegularFile(time);
        if (!finished && Boolean.parseBoolean(options.getOrDefault("report-only", "false"))) {
            System.out.printf(Locale.ROOT, "[%d/%d] %s: not run (--report-only)%n", index, plan.size(), run.key());
            return null;
        }
        if (!finished) {
            System.out.printf(Locale.ROOT, "[%d/%d] %s: %s%n", index, plan.size(), run.key(), String.join(" ", command(run)));
            ProcessBuilder pb = new ProcessBuilder(command(run)).redirectErrorStream(true).redirectOutput(log.toFile());
            // One thread each (OpenMP for ND4J and PyTorch, octet's pool): on a shared machine, OpenMP threads
            // that outnumber the free cores spin, and made a DL4J step ten times slower when measured.
            pb.environment().put("OMP_NUM_THREADS", "1");
            long t0 = System.nanoTime();
            Process p = pb.start();
            long peakKiB = 0;
            long lastReport = t0;
            while (!p.waitFor(200, TimeUnit.MILLISECONDS)) {
                peakKiB = Math.max(peakKiB, highWaterMark(p.pid()));
                if (System.nanoTime() - lastReport > 30e9) {
                    lastReport = System.nanoTime();
                    System.out.printf(Locale.ROOT, "    ... %s at step %d of %d, %.0f s%n", run.key(), lastStep(log), run.steps(),
                            (lastReport - t0) / 1e9);
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            Files.writeString(peak, peakKiB + "\n");
            Files.writeString(time, String.format(Locale.ROOT, "%.1f%nexit %d%n", seconds, p.exitValue()));
        }
        Result r = read(run, log, peak, time);
        System.out.printf(Locale.ROOT, "[%d/%d] %s: %.0f s, %s, peak RSS %,d MiB, exit %d (study so far %.1f min)%n", index,
                plan.size(), run.key(), r.seconds(), r.run().steps() == 0 ? "state " + r.stateAfter() + " bytes"
                        : String.format(Locale.ROOT, "final loss %.4f, held-out %.4f%s", r.finalLoss(), r.heldout(),
                                r.diverged() ? ", DIVERGED" : ""), r.peakKiB() / 1024, r.exit(),
                (System.nanoTime() - started) / 6e10);
        return r;
    }

    private static long highWaterMark(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | UncheckedIOException | NumberFormatException e) {
            // gone, or no /proc
        }
        return 0;
    }

    private static int lastStep(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            for (int i = lines.size() - 1; i >= 0; i--) {
                Matcher m = STEP.matcher(lines.get(i));
                if (m.find()) {
                    return Integer.parseInt(m.group(1));
                }
            }
        } catch (IOException | UncheckedIOException e) {
            // not yet written
        }
        return 0;
    }

    private static Result read(Run run, Path log, Path peak, Path time) throws IOException {
        List<Double> losses = new ArrayList<>();
        double heldout = Double.NaN;
        long before = -1;
        long after = -1;
        long benchPeak = -1;
        for (String line : Files.readAllLines(log, StandardCharsets.ISO_8859_1)) {
            Matcher m = STEP.matcher(line);
            if (m.find()) {
                losses.add(Double.parseDouble(m.group(2)));
                continue;
            }
            m = HELDOUT.matcher(line);
            if (m.find()) {
                heldout = Double.parseDouble(m.group(1));
                continue;
            }
            m = STATE.matcher(line);
            if (m.find()) {
                before = Long.parseLong(m.group(1).replace(",", ""));
                after = Long.parseLong(m.group(2).replace(",", ""));
                continue;
            }
            m = BENCH.matcher(line);
            if (m.find()) {
                before = Long.parseLong(m.group(2));
                after = before;
                benchPeak = Long.parseLong(m.group(3));
            }
        }
        List<String> peakLines = Files.readAllLines(peak);
        long peakKiB = benchPeak > 0 ? benchPeak : Long.parseLong(peakLines.get(peakLines.size() - 1).trim());
        List<String> timeLines = Files.readAllLines(time);
        int exit = timeLines.size() > 1 ? Integer.parseInt(timeLines.get(1).replace("exit", "").trim()) : 0;
        return new Result(run, losses.stream().mapToDouble(Double::doubleValue).toArray(), heldout, before, after, peakKiB,
                Double.parseDouble(timeLines.get(0).trim()), exit);
    }

    // ---- report ----

    private void header(StringBuilder md, List<String> studies) {
        md.append("# Fidelity study: training runs\n\n");
        md.append("Written by `FidelityStudy` (examples/kernel-benchmarks), ")
                .append(ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z", Locale.ROOT)))
                .append(", runs made on ").append(options.getOrDefault("ran-on", System.getProperty("os.arch") + " with "
                        + Runtime.getRuntime().availableProcessors() + " cores")).append(". Studies: ")
                .append(String.join(", ", studies)).append(configs == null ? "" : " (configurations " + String.join(", ", configs) + ")")
                .append("; ").append(seeds).append(" seeds");
        if (frameworks.contains("dl4j")) {
            md.append("; DL4J char-LM ").append(dl4jSteps).append(" steps (`").append(String.join(" ", dl4jModel)).append("`)");
        }
        if (frameworks.contains("djl")) {
            md.append("; DJL char-LM ").append(djlSteps).append(" steps (the demo's model)");
        }
        md.append(". Every child JVM: `-Xmx1g`, `OMP_NUM_THREADS=1` (and `-Doctet.threads=1` under the agent); ")
                .append(parallel).append(" at a time.\n\n");
        md.append("Final loss: the mean of the per-step training loss over the last 10% of steps. Held-out loss: the")
                .append(" mean loss over ").append(HELDOUT_BATCHES).append(" fixed batches of the 200,000 characters that")
                .append(" follow the 2,000,000 trained on (the same batches for every run). Divergence: a NaN or infinite")
                .append(" loss, or a step's loss above twice the first step's. Spread: sample standard deviation over")
                .append(" seeds, and [min, max]. Losses are each framework's own: DL4J's score (cross-entropy summed")
                .append(" over the time steps, averaged over the batch), DJL's mean cross-entropy per character.\n\n");
    }

    private static List<Result> select(List<Result> results, String framework, String config) {
        return results.stream().filter(r -> r.run().framework().equals(framework) && r.run().config().equals(config)
                && r.run().steps() > 0).toList();
    }

    private static String stats(double[] values) {
        double[] finite = Arrays.stream(values).filter(Double::isFinite).toArray();
        if (finite.length == 0) {
            return "n/a | n/a";
        }
        double mean = Arrays.stream(finite).average().orElse(Double.NaN);
        double var = 0;
        for (double v : finite) {
            var += (v - mean) * (v - mean);
        }
        double sd = finite.length > 1 ? Math.sqrt(var / (finite.length - 1)) : 0;
        return String.format(Locale.ROOT, "%.4f ± %.4f | [%.4f, %.4f]%s", mean, sd, Arrays.stream(finite).min().orElseThrow(),
                Arrays.stream(finite).max().orElseThrow(), finite.length < values.length
                        ? String.format(Locale.ROOT, " (%d of %d finite)", finite.length, values.length) : "");
    }

    private static double mean(double[] values) {
        return Arrays.stream(values).filter(Double::isFinite).average().orElse(Double.NaN);
    }

    private void table(StringBuilder md, List<Result> results, String framework, Map<String, String> configs,
            String baseline) {
        md.append("| configuration | runs | final loss: mean ± sd | [min, max] | held-out loss: mean ± sd | [min, max] |")
                .append(" divergences | vs ").append(configs.get(baseline)).append(" (final, held-out) | s per run |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        List<Result> base = select(results, framework, baseline);
        double baseFinal = mean(base.stream().mapToDouble(Result::finalLoss).toArray());
        double baseHeld = mean(base.stream().mapToDouble(Result::heldout).toArray());
        for (Map.Entry<String, String> c : configs.entrySet()) {
            List<Result> rs = select(results, framework, c.getKey());
            if (rs.isEmpty()) {
                continue;
            }
            double[] fin = rs.stream().mapToDouble(Result::finalLoss).toArray();
            double[] held = rs.stream().mapToDouble(Result::heldout).toArray();
            long div = rs.stream().filter(Result::diverged).count();
            String vs = base.isEmpty() ? "(not run)" : String.format(Locale.ROOT, "%+.2f%%, %+.2f%%",
                    100 * (mean(fin) / baseFinal - 1), 100 * (mean(held) / baseHeld - 1));
            md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %d | %s | %.0f |%n", c.getValue(), rs.size(),
                    stats(fin), stats(held), div, vs, rs.stream().mapToDouble(Result::seconds).average().orElse(0)));
        }
        md.append('\n');
    }

    private void curves(List<Result> results, String framework, Map<String, String> configs, String title, Path png)
            throws IOException {
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        int window = 1;
        for (Map.Entry<String, String> c : configs.entrySet()) {
            List<Result> rs = select(results, framework, c.getKey());
            if (rs.isEmpty()) {
                continue;
            }
            int steps = rs.stream().mapToInt(r -> r.losses().length).min().orElse(0);
            window = Math.max(1, steps / 30);
            YIntervalSeries series = new YIntervalSeries(c.getValue());
            for (int end = window; end <= steps; end += window) {
                double sum = 0;
                double lo = Double.POSITIVE_INFINITY;
                double hi = Double.NEGATIVE_INFINITY;
                int finite = 0;
                for (Result r : rs) {
                    double m = 0;
                    for (int i = end - window; i < end; i++) {
                        m += r.losses()[i];
                    }
                    m /= window;
                    if (Double.isFinite(m)) {
                        sum += m;
                        finite++;
                        lo = Math.min(lo, m);
                        hi = Math.max(hi, m);
                    }
                }
                if (finite > 0) {
                    series.add(end, sum / finite, lo, hi);
                }
            }
            data.addSeries(series);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, "step (loss averaged over windows of " + window + " steps)",
                "training loss (mean over seeds; band: min-max)", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        DeviationRenderer renderer = new DeviationRenderer(true, false);
        Color[] colors = {new Color(0x7F7F7F), new Color(0x9467BD), new Color(0xD62728), new Color(0xFF7F0E), new Color(0x1F77B4),
            new Color(0x2CA02C)};
        for (int s = 0; s < data.getSeriesCount(); s++) {
            renderer.setSeriesPaint(s, colors[s % colors.length]);
            renderer.setSeriesFillPaint(s, colors[s % colors.length]);
            renderer.setSeriesStroke(s, new BasicStroke(2f));
        }
        renderer.setAlpha(0.2f);
        plot.setRenderer(renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 1000, 600);
    }

    private void ablationSection(StringBuilder md, List<Result> results) throws IOException {
        Map<String, String> variants = new LinkedHashMap<>();
        variants.put("plain", "reference: float32, no agent, no stable embedding");
        variants.put("octet32", "reference: octet float32 + stable embedding");
        variants.put("linear-tensor", "8-bit linear, tensor-wise");
        variants.put("dynamic-tensor", "8-bit dynamic, tensor-wise");
        variants.put("dynamic-block", "8-bit dynamic, block-wise");
        variants.put("octet8", "8-bit dynamic, block-wise + stable embedding");
        md.append("## Ablation (DL4J char-LM with its embedding layer)\n\n");
        md.append("The same fused 8-bit Adam in every variant; only the map, the scaling and the embedding differ.")
                .append(" Tensor-wise and linear are the kernels' experiment switches (`-Doctet.experiment.scaling=tensor`,")
                .append(" `-Doctet.experiment.map=linear`), with the policy `docs/fidelity/policies/dl4j-8bit-no-stable-embedding.yaml`;")
                .append(" block-wise uses that policy as it is (blocks of 256, the LSTM's recurrent weights 2048); the last")
                .append(" variant is the example's own policy (`examples/dl4j-charlm/charlm-policy.yaml`: the same, plus the")
                .append(" stable embedding). octet's guards (the statistic floor, positive second moments never rounded to zero)")
                .append(" apply in every variant. The two references are parity's float32 runs (the same seeds and steps):")
                .append(" the first three variants compare with the plain job, the last with octet's float32 state and the")
                .append(" same stable embedding.");
        if (select(results, "dl4j", "plain").isEmpty()) {
            md.append(" This run left out the references and the variant with the stable embedding (`--configs`):")
                    .append(" they are the parity runs of the same model, seeds and steps, in their own report.");
        }
        md.append("\n\n");
        table(md, results, "dl4j", variants, "plain");
        curves(results, "dl4j", variants, "Ablation: DL4J char-LM, 8-bit Adam variants", out.resolve("ablation-dl4j.png"));
        md.append("![ablation loss curves](ablation-dl4j.png)\n\n");
    }

    private void paritySection(StringBuilder md, List<Result> results, String framework) throws IOException {
        Map<String, String> configs = new LinkedHashMap<>();
        configs.put("plain", "no agent (framework's float32 Adam)");
        configs.put("octet32", "octet float32 state");
        configs.put("octet8", "octet 8-bit state");
        if (select(results, framework, "plain").isEmpty()) {
            return;
        }
        String name = framework.equals("dl4j") ? "DL4J" : "DJL";
        md.append("## Training parity: ").append(name).append(" char-LM\n\n");
        md.append(framework.equals("dl4j")
                ? "Policies: octet 8-bit `examples/dl4j-charlm/charlm-policy.yaml`, octet float32 `docs/fidelity/policies/dl4j-32bit.yaml`"
                        + " (both with the stable embedding).\n\n"
                : "Policies: octet 8-bit `examples/djl-charlm/charlm-policy.yaml`, octet float32 `docs/fidelity/policies/djl-32bit.yaml`"
                        + " (both with the stable embedding).\n\n");
        table(md, results, framework, configs, "octet32");
        curves(results, framework, configs, "Training parity: " + name + " char-LM", out.resolve("parity-" + framework + ".png"));
        md.append("![").append(name).append(" loss curves](parity-").append(framework).append(".png)\n\n");
    }

    /** Wall time of the training runs, and what 5 seeds x 1,500 steps of the same runs would take at that pace. */
    private void timeSection(StringBuilder md, List<Result> results) {
        md.append("## Time\n\n| framework | runs | steps per run | wall s per run (mean) | s per step (with JVM start and")
                .append(" held-out loss) | the same runs at 5 seeds x 1,500 steps |\n|---|---:|---:|---:|---:|---:|\n");
        for (String framework : List.of("dl4j", "djl")) {
            List<Result> rs = results.stream().filter(r -> r.run().framework().equals(framework) && r.run().steps() > 0).toList();
            if (rs.isEmpty()) {
                continue;
            }
            double seconds = rs.stream().mapToDouble(Result::seconds).average().orElse(0);
            int steps = rs.get(0).run().steps();
            long configs = rs.stream().map(r -> r.run().config()).distinct().count();
            md.append(String.format(Locale.ROOT, "| %s | %d | %d | %.0f | %.3f | %.0f min (%d configurations) |%n",
                    framework.equals("dl4j") ? "DL4J" : "DJL", rs.size(), steps, seconds, seconds / steps,
                    configs * 5 * 1500 * seconds / steps / 60, configs));
        }
        md.append('\n');
    }

    private void memorySection(StringBuilder md, List<Result> results) throws IOException {
        md.append("## Memory: optimizer state and process peak\n\n");
        md.append("State bytes: octet's start-up report (`total optimizer state: before -> after`; the plain run's state is")
                .append(" the report's `before`, the framework's float32 state); for the large network, UpdaterStepBenchmark's")
                .append(" own count of DL4J's updater state view. Peak: the child's VmHWM (peak resident set), the mean over")
                .append(" the runs measured; every child `-Xmx1g`.\n\n");
        md.append("| workload | configuration | runs | optimizer-state bytes | peak RSS MiB |\n|---|---|---:|---:|---:|\n");
        DefaultCategoryDataset state = new DefaultCategoryDataset();
        DefaultCategoryDataset peak = new DefaultCategoryDataset();
        String[][] workloads = {{"dl4j", "DL4J char-LM"}, {"djl", "DJL char-LM"}, {"dl4j-large", "DL4J large network (14.6M)"}};
        for (String[] w : workloads) {
            for (String config : List.of("plain", "octet32", "octet8")) {
                List<Result> rs = w[0].equals("dl4j-large")
                        ? results.stream().filter(r -> r.run().key().equals("dl4j-large-" + config)).toList()
                        : select(results, w[0], config);
                if (rs.isEmpty()) {
                    continue;
                }
                // The plain run has no report: its state is the float32 size an octet run reports as "before".
                long bytes = rs.get(0).stateAfter();
                if (config.equals("plain") && !w[0].equals("dl4j-large")) {
                    bytes = select(results, w[0], "octet8").stream().mapToLong(Result::stateBefore).filter(b -> b > 0)
                            .findFirst().orElse(-1);
                }
                double peakMiB = rs.stream().mapToLong(Result::peakKiB).average().orElse(0) / 1024;
                String label = config.equals("plain") ? "32-bit (no agent)" : config.equals("octet32") ? "32-bit (octet)" : "8-bit (octet)";
                md.append(String.format(Locale.ROOT, "| %s | %s | %d | %,d | %,.0f |%n", w[1], label, rs.size(), bytes, peakMiB));
                if (!config.equals("octet32")) {
                    String series = config.equals("plain") ? "32-bit (no agent)" : "8-bit (octet)";
                    state.addValue(bytes / 1048576.0, series, w[1]);
                    peak.addValue(peakMiB, series, w[1]);
                }
            }
        }
        md.append("\n![memory](memory.png)\n\n");
        JFreeChart a = ChartFactory.createBarChart("Optimizer-state bytes", "", "MiB", state, PlotOrientation.VERTICAL, true, false, false);
        JFreeChart b = ChartFactory.createBarChart("Process peak resident memory", "", "MiB", peak, PlotOrientation.VERTICAL, true, false, false);
        BufferedImage image = new BufferedImage(1000, 1000, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        a.draw(g, new Rectangle2D.Double(0, 0, 1000, 500));
        b.draw(g, new Rectangle2D.Double(0, 500, 1000, 500));
        g.dispose();
        ImageIO.write(image, "png", out.resolve("memory.png").toFile());
    }
}
