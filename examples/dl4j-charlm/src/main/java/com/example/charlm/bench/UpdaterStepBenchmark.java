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
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The time of DL4J's updater step as {@code fit} runs it after backpropagation (its optimizer's
 * {@code updateGradientAccordingToParams}: the gradient's division by the minibatch (32), every update
 * block's {@code applyUpdater} and regularization; then its step function's {@code params -= update}) and the bytes of updater state, for a network.
 * Knows nothing of octet: {@link #main} with {@code table} runs it in child JVMs with and without
 * {@code -javaagent:octet-agent.jar}, at 1 and 2 threads, and prints the comparison.
 *
 * <p>{@code java -cp <job class path> com.example.charlm.bench.UpdaterStepBenchmark table <octet-agent.jar> [models] [iterations]}
 * (models, separated by commas, default {@code example,large,xl}: {@code example}, the demo's; {@code small}, 325K
 * parameters in 26 small tensors; {@code large}, 14.6M parameters; {@code xl}, 54M; iterations measured, default 20).
 *
 * <p>Each JVM first warms up for at least 5 steps and 3 seconds, so that a small model is measured after the
 * JIT has compiled the step (a few hundred steps of the demo's model), as in a job of thousands of steps.
 */
public final class UpdaterStepBenchmark {

    /** The minibatch the step is told of (DL4J divides the gradient by it first, as in a fit of 32 examples). */
    private static final int BATCH = 32;

    private UpdaterStepBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("table")) {
            table(args[1], args.length > 2 ? List.of(args[2].split(",")) : List.of("example", "large", "xl"),
                    args.length > 3 ? Integer.parseInt(args[3]) : 20);
        } else if (args.length >= 1) {
            measure(args[0], args.length > 1 ? Integer.parseInt(args[1]) : 20);
        } else {
            System.err.println("usage: UpdaterStepBenchmark table <octet-agent.jar> [models] [iterations]"
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
        for (long until = System.nanoTime() + 3_000_000_000L; warmup < 5 || System.nanoTime() < until; warmup++) {
            step(optimizer, net, params, gradient, randomGradient);
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
        System.out.printf(Locale.ROOT, "result params=%d stateBytes=%d nsPerStep=%d nsSubtract=%d peakRssKiB=%d%n",
                net.numParams(), state == null ? 0 : 4 * state.length(), times[iterations / 2],
                subtractTimes[iterations / 2], peakResidentKiB());
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

    private record Result(String model, boolean octet, int threads, long params, long stateBytes, double nsPerStep,
            double nsSubtract, long peakRssKiB) {
    }

    static void table(String agentJar, List<String> models, int iterations) throws Exception {
        List<Result> results = new ArrayList<>();
        for (String model : models) {
            for (int threads : new int[] {1, 2}) {
                for (boolean octet : new boolean[] {false, true}) {
                    results.add(run(agentJar, model, octet, threads, iterations));
                }
            }
        }
        System.out.println();
        System.out.println("| model | parameters | threads | updater | state bytes | bytes/param | peak RSS MiB | ms/step | ns/param | of which DL4J's params -= update | octet speed-up |");
        System.out.println("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        for (Result r : results) {
            Result dl4j = results.stream().filter(o -> !o.octet() && o.model().equals(r.model()) && o.threads() == r.threads())
                    .findFirst().orElseThrow();
            System.out.printf(Locale.ROOT, "| %s | %,d | %d | %s | %,d | %.2f | %,d | %.2f | %.2f | %.2f | %s |%n", r.model(),
                    r.params(), r.threads(), r.octet() ? "octet 8-bit Adam" : "DL4J Adam (float32)", r.stateBytes(),
                    (double) r.stateBytes() / r.params(), r.peakRssKiB() / 1024, r.nsPerStep() / 1e6, r.nsPerStep() / r.params(),
                    r.nsSubtract() / r.params(),
                    r.octet() ? String.format(Locale.ROOT, "%.2fx", dl4j.nsPerStep() / r.nsPerStep()) : "");
        }
    }

    private static Result run(String agentJar, String model, boolean octet, int threads, int iterations) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (octet) {
            command.add("-javaagent:" + agentJar);
            command.add("-Doctet.threads=" + threads);
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
        String[] f = line.split("[ =]");
        return new Result(model, octet, threads, Long.parseLong(f[2]), Long.parseLong(f[4]), Double.parseDouble(f[6]),
                Double.parseDouble(f[8]), Long.parseLong(f[10]));
    }
}
