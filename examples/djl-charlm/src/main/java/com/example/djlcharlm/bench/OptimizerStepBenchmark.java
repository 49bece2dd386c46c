package com.example.djlcharlm.bench;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import com.example.djlcharlm.DjlCharLanguageModel;
import java.io.File;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The time of DJL's optimizer step ({@code Trainer.step()}: every parameter through
 * {@code LocalParameterServer.update}), with DJL's own Adam (PyTorch engine, float32 state) and, in a
 * JVM started with the octet agent, the same call with octet's 8-bit Adam. The gradients are real (one
 * backward pass) and put back before every step, outside the timing. Plain DJL: the agent decides which
 * optimizer runs.
 *
 * <pre>
 * java -cp ... com.example.djlcharlm.bench.OptimizerStepBenchmark table path/to/octet-agent.jar
 * </pre>
 * runs every case in its own JVM (1 and 2 threads: PyTorch's intra-op threads and OMP_NUM_THREADS for DJL,
 * {@code -Doctet.threads} for octet) and prints one table. Started with {@code --add-modules
 * jdk.incubator.vector}, it starts octet's JVMs with it too, so they run octet's SIMD codec.
 */
public final class OptimizerStepBenchmark {

    private static final Pattern RESULT = Pattern.compile("^result parameters (\\d+) ms ([0-9.]+) p10 ([0-9.]+) p90 ([0-9.]+)$", Pattern.MULTILINE);
    private static final Pattern TOTAL = Pattern.compile("total optimizer state: ([0-9,]+) bytes -> ([0-9,]+) bytes");

    /**
     * Bytes each update moves per parameter, counted from the code (not measured): DJL's PyTorch Adam
     * (adamUpdate's tensor operations, each a pass over memory: clone the gradient 8, add the weight decay
     * 12, m *= b1 8, m += (1-b1) g 12, v *= b2 8, v += (1-b2) g g 16, m * lambda 8, sqrt(v) 8, + eps 8,
     * divide 12, w -= 12, zero the gradient 4; plus LocalParameterServer's copy of the gradient 8);
     * octet's fused 8-bit step (read w, g and two codes, write w and two codes, 16, plus absmax 16/256,
     * then zero the gradient 4).
     */
    private static final double DJL_BYTES = 124;
    private static final double OCTET_BYTES = 20 + 16.0 / 256;

    private OptimizerStepBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("table")) {
            table(Path.of(args[1]), args.length > 2 ? args[2] : "model,1M,16M");
        } else if (args.length == 3 && args[0].equals("run")) {
            run(args[1], Integer.parseInt(args[2]));
        } else {
            System.err.println("usage: OptimizerStepBenchmark table <octet-agent.jar> [model,1M,16M] | run <model|1M|16M> <steps>");
            System.exit(2);
        }
    }

    /** One case in this JVM: prints the report (under the agent) and a result line. */
    static void run(String what, int steps) throws Exception {
        Engine.getInstance().setRandomSeed(7);
        Block block;
        Shape input;
        Loss loss;
        switch (what) {
            case "model" -> {
                block = DjlCharLanguageModel.block(64, 1024, 2);
                input = new Shape(32, 16);
                loss = Loss.softmaxCrossEntropyLoss();
            }
            case "1M" -> {
                block = Linear.builder().setUnits(1024).optBias(false).build();
                input = new Shape(32, 1024);
                loss = Loss.l2Loss();
            }
            case "16M" -> {
                block = Linear.builder().setUnits(4096).optBias(false).build();
                input = new Shape(32, 4096);
                loss = Loss.l2Loss();
            }
            default -> throw new IllegalArgumentException(what);
        }
        try (Model model = Model.newInstance("bench")) {
            model.setBlock(block);
            Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(1e-3f)).build();
            try (Trainer trainer = model.newTrainer(new DefaultTrainingConfig(loss).optOptimizer(adam)
                    .optDevices(new Device[] {Device.cpu()}))) {
                trainer.initialize(input);
                NDManager manager = trainer.getManager();
                NDArray x = what.equals("model")
                        ? manager.randomInteger(0, 96, input, DataType.INT64)
                        : manager.randomNormal(input);
                NDArray y = what.equals("model")
                        ? manager.randomInteger(0, 96, new Shape(32), DataType.INT64)
                        : manager.randomNormal(new Shape(32, input.get(1) == 1024 ? 1024 : 4096));
                try (GradientCollector collector = trainer.newGradientCollector()) {
                    NDArray prediction = trainer.forward(new NDList(x)).singletonOrThrow();
                    collector.backward(trainer.getLoss().evaluate(new NDList(y), new NDList(prediction)));
                }
                List<Parameter> params = new ArrayList<>();
                List<float[]> grads = new ArrayList<>();
                long count = 0;
                for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
                    params.add(p.getValue());
                    grads.add(p.getValue().getArray().getGradient().toFloatArray());
                    count += p.getValue().getArray().size();
                }
                // Warm-up: a fifth of the steps, at least 3; with octet's SIMD codec, until a second after its own
                // warm-up has switched the steps to it.
                int warmUp = Math.max(3, steps / 5);
                long deadline = System.nanoTime() + 60_000_000_000L;
                long until = 0;
                for (int s = 0; s < warmUp || System.nanoTime() < until; s++) {
                    step(trainer, params, grads);
                    if (octetWarmingUp() && System.nanoTime() < deadline) {
                        until = System.nanoTime() + 1_000_000_000L;
                    }
                }
                if (octetWarmingUp()) {
                    System.out.println("octet's SIMD codec is still warming up: its steps ran the scalar codec");
                }
                double[] ms = new double[steps];
                for (int s = 0; s < steps; s++) {
                    ms[s] = step(trainer, params, grads);
                }
                // The median and the 10th to 90th percentile: this machine is shared, a mean would carry others' bursts.
                Arrays.sort(ms);
                System.out.printf(Locale.ROOT, "result parameters %d ms %.4f p10 %.4f p90 %.4f%n", count, ms[steps / 2],
                        ms[steps / 10], ms[steps - 1 - steps / 10]);
            }
        }
    }

    /** One {@code trainer.step()} on the saved gradients, in ms. */
    private static double step(Trainer trainer, List<Parameter> params, List<float[]> grads) {
        for (int i = 0; i < params.size(); i++) {
            FloatBuffer g = params.get(i).getArray().getGradient().toByteBuffer(true)
                    .order(ByteOrder.nativeOrder()).asFloatBuffer();
            g.put(0, grads.get(i));
        }
        long t0 = System.nanoTime();
        trainer.step();
        return (System.nanoTime() - t0) / 1e6;
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

    static void table(Path agentJar, String cases) throws Exception {
        String classPath = System.getProperty("java.class.path");
        String cache = System.getProperty("DJL_CACHE_DIR", "target/djl-cache");
        System.out.println("| tensor | parameters | threads | optimizer | state bytes | state bytes/param | bytes moved/param | ms/step, median (p10-p90) | ns/param | octet speed-up |");
        System.out.println("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|");
        for (String what : cases.split(",")) {
            int steps = what.equals("16M") ? 20 : 60;
            for (int threads : new int[] {1, 2}) {
                double djlMs = 0;
                for (boolean octet : new boolean[] {false, true}) {
                    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
                    if (octet) {
                        command.add("-javaagent:" + agentJar);
                        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
                            command.addAll(List.of("--add-modules", "jdk.incubator.vector"));
                        }
                    }
                    command.addAll(List.of("-Dai.djl.offline=true", "-DDJL_CACHE_DIR=" + cache, "-DENGINE_CACHE_DIR=" + cache,
                            "-Dai.djl.pytorch.num_threads=" + threads, "-Dai.djl.pytorch.num_interop_threads=1",
                            "-Doctet.threads=" + threads, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                            "-Dorg.slf4j.simpleLogger.log.octet=info", "-cp", classPath,
                            OptimizerStepBenchmark.class.getName(), "run", what, Integer.toString(steps)));
                    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
                    pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
                    Process p = pb.start();
                    String out = new String(p.getInputStream().readAllBytes());
                    if (p.waitFor() != 0) {
                        throw new IllegalStateException("case " + what + " failed:" + File.separator + out);
                    }
                    if (out.contains("octet's SIMD codec is still warming up")) {
                        throw new IllegalStateException("octet's SIMD codec did not end its warm-up in 60 s: " + out);
                    }
                    Matcher r = RESULT.matcher(out);
                    if (!r.find()) {
                        throw new IllegalStateException("no result in: " + out);
                    }
                    long parameters = Long.parseLong(r.group(1));
                    double ms = Double.parseDouble(r.group(2));
                    double p10 = Double.parseDouble(r.group(3));
                    double p90 = Double.parseDouble(r.group(4));
                    long stateBytes = 8 * parameters;
                    if (octet) {
                        Matcher t = TOTAL.matcher(out);
                        if (!t.find()) {
                            throw new IllegalStateException("octet did not report its state: " + out);
                        }
                        stateBytes = Long.parseLong(t.group(2).replace(",", ""));
                    } else {
                        djlMs = ms;
                    }
                    System.out.printf(Locale.ROOT, "| %s | %,d | %d | %s | %,d | %.2f | %.0f | %.2f (%.2f-%.2f) | %.2f | %s |%n", what, parameters,
                            threads, octet ? "octet 8-bit Adam" : "DJL Adam (PyTorch, float32)", stateBytes,
                            (double) stateBytes / parameters, octet ? OCTET_BYTES : DJL_BYTES, ms, p10, p90, 1e6 * ms / parameters,
                            octet ? String.format(Locale.ROOT, "%.2fx", djlMs / ms) : "");
                }
            }
        }
    }
}
