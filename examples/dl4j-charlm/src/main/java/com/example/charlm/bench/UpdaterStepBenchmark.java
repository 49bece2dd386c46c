package com.example.charlm.bench;

import com.example.charlm.CharLanguageModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.optimize.api.ConvexOptimizer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The time of DL4J's updater step as {@code fit} runs it after backpropagation (its optimizer's
 * {@code updateGradientAccordingToParams}: the gradient's division by the minibatch (32), every update
 * block's {@code applyUpdater} and regularization; then its step function's {@code params -= update}) and the bytes of updater state, for a network.
 * Knows nothing of octet: {@link #main} with {@code table} runs it in child JVMs without the agent (DL4J's own Adam)
 * and with {@code -javaagent:octet-agent.jar} twice, once with octet's scalar CPU codec and once with its SIMD codec
 * ({@code --add-modules jdk.incubator.vector}), at 1 and 2 threads, in rounds (every variant once per round, so
 * that a shared machine's changing load falls on all of them alike), and prints the comparison: each variant's median over
 * the rounds, and every round's figure. The OpenMP wait policy is the parent's ({@code OMP_WAIT_POLICY}).
 *
 * <p>{@code java -cp <job class path> com.example.charlm.bench.UpdaterStepBenchmark table <octet-agent.jar> [models] [iterations] [rounds]}
 * (models, separated by commas, default {@code example,large,xl}: {@code example}, the demo's; {@code small}, 325K
 * parameters in 26 small tensors; {@code large}, 14.6M parameters; {@code xl}, 54M; iterations measured per JVM,
 * default 20; rounds, default 3).
 *
 * <p>Each JVM first warms up for at least 5 steps and 3 seconds, so that a small model is measured after the
 * JIT has compiled the step (a few hundred steps of the demo's model), as in a job of thousands of steps; with
 * octet's SIMD codec, until a second after its own warm-up has switched the steps to it. For the
 * {@code example} and {@code small} models it then also times whole {@code fit} calls on one minibatch of 32
 * (forward pass, backpropagation and the updater step, as a job sees them) after 3 more seconds of them: as many
 * as the updater steps, or as many as take 10 seconds (at least 5).
 */
public final class UpdaterStepBenchmark {

    /** The minibatch the step is told of (DL4J divides the gradient by it first, as in a fit of 32 examples). */
    private static final int BATCH = 32;

    private UpdaterStepBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("table")) {
            table(args[1], args.length > 2 ? List.of(args[2].split(",")) : List.of("example", "large", "xl"),
                    args.length > 3 ? Integer.parseInt(args[3]) : 20, args.length > 4 ? Integer.parseInt(args[4]) : 3);
        } else if (args.length >= 1) {
            measure(args[0], args.length > 1 ? Integer.parseInt(args[1]) : 20);
        } else {
            System.err.println("usage: UpdaterStepBenchmark table <octet-agent.jar> [models] [iterations] [rounds]"
                    + " | <example|small|large|xl> [iterations]");
            System.exit(2);
        }
    }

    static MultiLayerNetwork network(String model) {
        MultiLayerConfiguration conf = switch (model) {
            case "example" -> CharLanguageModel.configurationForBenchmark();
            case "small" -> {
                // Many small tensors: twelve 160x160 dense layers (8-bit weights, float32 biases) and an output layer.
                var list = new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(1e-3))
                        .weightInit(WeightInit.XAVIER).list();
                for (int i = 0; i < 12; i++) {
                    list.layer(new DenseLayer.Builder().nIn(160).nOut(160).activation(Activation.RELU).build());
                }
                yield list.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).activation(Activation.SOFTMAX)
                        .nIn(160).nOut(100).build()).build();
            }
            case "large" -> new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(1e-3))
                    .weightInit(WeightInit.XAVIER).list()
                    .layer(new DenseLayer.Builder().nIn(1024).nOut(4096).activation(Activation.RELU).build())
                    .layer(new DenseLayer.Builder().nIn(4096).nOut(2048).activation(Activation.RELU).build())
                    .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).activation(Activation.SOFTMAX)
                            .nIn(2048).nOut(1000).build())
                    .build();
            case "xl" -> new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(1e-3))
                    .weightInit(WeightInit.XAVIER).list()
                    .layer(new DenseLayer.Builder().nIn(2048).nOut(8192).activation(Activation.RELU).build())
                    .layer(new DenseLayer.Builder().nIn(8192).nOut(4096).activation(Activation.RELU).build())
                    .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).activation(Activation.SOFTMAX)
                            .nIn(4096).nOut(1000).build())
                    .build();
            default -> throw new IllegalArgumentException("model is example, small, large or xl, not " + model);
        };
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /** One JVM's measurement, printed as a single "result" line. */
    static void measure(String model, int iterations) {
        MultiLayerNetwork net = network(model);
        net.initGradientsView();
        INDArray params = net.params();
        INDArray gradient = net.getFlattenedGradients();
        BaseMultiLayerUpdater<?> updater = (BaseMultiLayerUpdater<?>) net.getUpdater();
        INDArray state = updater.getStateViewArray();
        ConvexOptimizer optimizer = net.getOptimizer();
        INDArray randomGradient = Nd4j.rand(gradient.dataType(), gradient.shape()).subi(0.5).muli(0.01);
        long[] times = new long[iterations];
        long[] subtractTimes = new long[iterations];
        int warmup = 0;
        long deadline = System.nanoTime() + 60_000_000_000L;
        for (long until = System.nanoTime() + 3_000_000_000L; warmup < 5 || System.nanoTime() < until; warmup++) {
            step(optimizer, net, params, gradient, randomGradient);
            if (octetWarmingUp() && System.nanoTime() < deadline) {
                until = System.nanoTime() + 1_000_000_000L; // and a second of steps on the SIMD codec
            }
        }
        if (octetWarmingUp()) {
            System.out.println("octet's SIMD codec is still warming up: its steps ran the scalar codec");
        }
        for (int it = warmup; it < warmup + iterations; it++) {
            gradient.assign(randomGradient); // not timed: a fresh gradient, as backprop would leave
            Nd4j.getExecutioner().commit();
            long t0 = System.nanoTime();
            optimizer.updateGradientAccordingToParams(new DefaultGradient(gradient), net, BATCH, LayerWorkspaceMgr.noWorkspaces());
            Nd4j.getExecutioner().commit();
            long t1 = System.nanoTime();
            optimizer.getStepFunction().step(params, gradient.reshape(gradient.length()));
            Nd4j.getExecutioner().commit();
            if (it >= warmup) {
                times[it - warmup] = System.nanoTime() - t0;
                subtractTimes[it - warmup] = System.nanoTime() - t1;
            }
        }
        java.util.Arrays.sort(times);
        java.util.Arrays.sort(subtractTimes);
        long nsPerFit = medianFitStep(model, net, iterations);
        System.out.printf(Locale.ROOT, "result params=%d stateBytes=%d nsPerStep=%d nsSubtract=%d peakRssKiB=%d nsPerFit=%d%n",
                net.numParams(), state == null ? 0 : 4 * state.length(), times[iterations / 2],
                subtractTimes[iterations / 2], peakResidentKiB(), nsPerFit);
    }

    /**
     * Whether octet's agent is in this JVM with its SIMD codec still warming up (its steps run the scalar codec until
     * then): asked through octet's public {@code CpuCodec}, found by name, so that this benchmark needs no octet to build.
     */
    static boolean octetWarmingUp() {
        try {
            Class<?> codec = Class.forName("dev.octet.kernels.CpuCodec");
            return (boolean) codec.getMethod("vector").invoke(null) && !(boolean) codec.getMethod("simdNow").invoke(null);
        } catch (ReflectiveOperationException | LinkageError e) {
            return false;
        }
    }

    /**
     * The median time of a whole {@code fit} on one minibatch of 32 (forward, backpropagation, the updater step), for
     * the models small enough to train here; 0 for the others.
     */
    private static long medianFitStep(String model, MultiLayerNetwork net, int iterations) {
        java.util.Random random = new java.util.Random(3);
        DataSet data;
        if (model.equals("example")) {
            int[] text = random.ints(10_000, 0, 95).toArray();
            data = CharLanguageModel.batch(text, BATCH, 64, random);
        } else if (model.equals("small")) {
            INDArray labels = Nd4j.zeros(BATCH, 100);
            for (int i = 0; i < BATCH; i++) {
                labels.putScalar(i, random.nextInt(100), 1.0);
            }
            data = new DataSet(Nd4j.rand(BATCH, 160), labels);
        } else {
            return 0;
        }
        for (long until = System.nanoTime() + 3_000_000_000L; System.nanoTime() < until; ) {
            net.fit(data);
        }
        // As many as the updater steps, or what fits in 10 seconds (the demo's model takes most of a second), at least 5.
        long[] times = new long[iterations];
        int n = 0;
        for (long until = System.nanoTime() + 10_000_000_000L; n < iterations && (n < 5 || System.nanoTime() < until); n++) {
            long t0 = System.nanoTime();
            net.fit(data);
            times[n] = System.nanoTime() - t0;
        }
        java.util.Arrays.sort(times, 0, n);
        return times[n / 2];
    }

    /** One untimed step of the warm-up, as the measured ones. */
    private static void step(ConvexOptimizer optimizer, MultiLayerNetwork net, INDArray params, INDArray gradient,
            INDArray randomGradient) {
        gradient.assign(randomGradient);
        optimizer.updateGradientAccordingToParams(new DefaultGradient(gradient), net, BATCH, LayerWorkspaceMgr.noWorkspaces());
        optimizer.getStepFunction().step(params, gradient.reshape(gradient.length()));
        Nd4j.getExecutioner().commit();
    }

    /** The process's peak resident memory (VmHWM), in KiB; -1 where /proc is not there. */
    static long peakResidentKiB() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmHWM:"))
                    .map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(-1L);
        } catch (IOException e) {
            return -1;
        }
    }

    /** Who updates: DL4J's own Adam, or octet with one of its CPU codecs. */
    private enum Updater {
        DL4J("DL4J Adam (float32)"),
        OCTET_SCALAR("octet 8-bit Adam, scalar codec"),
        OCTET_SIMD("octet 8-bit Adam, SIMD codec");

        final String label;

        Updater(String label) {
            this.label = label;
        }
    }

    /** One JVM's result; {@code codec} is the CPU codec octet's start-up report named (null without the agent). */
    private record Result(String model, Updater updater, int threads, long params, long stateBytes, double nsPerStep,
            long peakRssKiB, double nsPerFit, String codec) {
    }

    static void table(String agentJar, List<String> models, int iterations, int rounds) throws Exception {
        List<Result> results = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            for (String model : models) {
                for (int threads : new int[] {1, 2}) {
                    for (Updater updater : Updater.values()) {
                        results.add(run(agentJar, model, updater, threads, iterations));
                    }
                }
            }
        }
        String policy = System.getenv("OMP_WAIT_POLICY");
        System.out.println();
        System.out.printf(Locale.ROOT, "Java %s, OMP_WAIT_POLICY %s, %d rounds of %d steps a JVM; ms/step is the median of"
                + " the rounds' medians%n", System.getProperty("java.version"), policy == null ? "not set (OpenMP's default)"
                : policy, rounds, iterations);
        System.out.println();
        System.out.println("| model | parameters | threads | updater | state bytes | bytes/param | peak RSS MiB | ms/step | each round, ms | ns/param | octet speed-up | whole fit step, ms | its speed-up |");
        System.out.println("|---|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|");
        for (String model : models) {
            for (int threads : new int[] {1, 2}) {
                double dl4j = median(runs(results, model, Updater.DL4J, threads), Result::nsPerStep);
                double dl4jFit = median(runs(results, model, Updater.DL4J, threads), Result::nsPerFit);
                for (Updater updater : Updater.values()) {
                    List<Result> runs = runs(results, model, updater, threads);
                    Result first = runs.get(0);
                    double ns = median(runs, Result::nsPerStep);
                    double fit = median(runs, Result::nsPerFit);
                    String label = updater.label;
                    if (updater == Updater.OCTET_SIMD && !first.codec().startsWith("vector")) {
                        label += " (did not run: " + first.codec() + ")";
                    }
                    StringBuilder each = new StringBuilder();
                    for (Result r : runs) {
                        each.append(each.length() == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.2f", r.nsPerStep() / 1e6));
                    }
                    System.out.printf(Locale.ROOT, "| %s | %,d | %d | %s | %,d | %.2f | %,d | %.2f | %s | %.2f | %s | %s | %s |%n", model,
                            first.params(), threads, label, first.stateBytes(), (double) first.stateBytes() / first.params(),
                            runs.stream().mapToLong(Result::peakRssKiB).max().orElse(0) / 1024, ns / 1e6, each, ns / first.params(),
                            updater == Updater.DL4J ? "" : String.format(Locale.ROOT, "%.2fx", dl4j / ns),
                            fit == 0 ? "" : String.format(Locale.ROOT, "%.2f", fit / 1e6),
                            fit == 0 || updater == Updater.DL4J ? "" : String.format(Locale.ROOT, "%.2fx", dl4jFit / fit));
                }
            }
        }
    }

    /** One variant's results, a JVM per round. */
    private static List<Result> runs(List<Result> results, String model, Updater updater, int threads) {
        return results.stream().filter(r -> r.model().equals(model) && r.updater() == updater && r.threads() == threads).toList();
    }

    /** The median over the rounds of the per-JVM medians of a time (an updater step, a whole fit step). */
    private static double median(List<Result> runs, java.util.function.ToDoubleFunction<Result> time) {
        double[] times = runs.stream().mapToDouble(time).sorted().toArray();
        int n = times.length;
        return n % 2 == 1 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    }

    private static Result run(String agentJar, String model, Updater updater, int threads, int iterations) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (updater != Updater.DL4J) {
            command.add("-javaagent:" + agentJar);
            command.add("-Doctet.threads=" + threads);
        }
        if (updater == Updater.OCTET_SCALAR) {
            command.add("-Doctet.cpu.codec=scalar");
        } else if (updater == Updater.OCTET_SIMD) {
            command.add("--add-modules"); // octet's default codec then: the SIMD one, after its warm-up
            command.add("jdk.incubator.vector");
        }
        command.add("-Xmx1g"); // ND4J's arrays live outside the heap; a small heap keeps its pages out of the RSS
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(UpdaterStepBenchmark.class.getName());
        command.add(model);
        command.add(String.valueOf(iterations));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", String.valueOf(threads));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(20, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("benchmark run failed:\n" + out);
        }
        String line = out.lines().filter(l -> l.startsWith("result ")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no result in:\n" + out));
        // The start-up report's "  CPU codec: vector (...)" line says which codec octet ran.
        String codec = updater == Updater.DL4J ? null : out.lines().map(String::trim).filter(l -> l.startsWith("CPU codec: "))
                .map(l -> l.substring("CPU codec: ".length())).findFirst()
                .orElseThrow(() -> new IllegalStateException("no CPU codec line in octet's start-up report:\n" + out));
        if (out.contains("octet's SIMD codec is still warming up")) {
            codec = "still warming up: " + codec;
        }
        String[] f = line.split("[ =]");
        return new Result(model, updater, threads, Long.parseLong(f[2]), Long.parseLong(f[4]), Double.parseDouble(f[6]),
                Long.parseLong(f[10]), Double.parseDouble(f[12]), codec);
    }
}
