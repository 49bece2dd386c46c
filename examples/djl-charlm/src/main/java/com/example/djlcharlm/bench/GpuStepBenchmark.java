package com.example.djlcharlm.bench;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * A DJL training job on the GPU, unchanged (started with or without the octet agent): a stack of
 * {@code layers} Linear layers of {@code width} units (biases included) on {@code Device.gpu()}, Adam,
 * one forward and backward pass, then {@code Trainer.step()} timed. A plain DJL program: the agent decides
 * whether DJL's own Adam (float32 state in PyTorch's memory) or octet's 8-bit state runs.
 *
 * <pre>
 * step L W STEPS   time STEPS optimizer steps (each ended by reading one value back, which waits for
 *                  the GPU), print the median and the GPU memory the driver counts for this process
 *                  before and after the first step (the optimizer state appears there)
 * fit L W          two full training steps; exit 0 when they fit in the GPU's free memory, 3 when not
 * </pre>
 */
public final class GpuStepBenchmark {

    private GpuStepBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3 || !(args[0].equals("step") && args.length == 4 || args[0].equals("fit"))) {
            System.err.println("usage: GpuStepBenchmark step <layers> <width> <steps> | fit <layers> <width>");
            System.exit(2);
        }
        int layers = Integer.parseInt(args[1]);
        int width = Integer.parseInt(args[2]);
        try {
            run(args[0].equals("step"), layers, width, args[0].equals("step") ? Integer.parseInt(args[3]) : 2);
        } catch (RuntimeException | OutOfMemoryError e) {
            if (String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT).contains("out of memory")
                    || e.getCause() != null && String.valueOf(e.getCause().getMessage()).toLowerCase(Locale.ROOT).contains("out of memory")) {
                System.out.println("result fit oom layers " + layers + " width " + width);
                System.exit(3);
            }
            throw e;
        }
    }

    private static void run(boolean timing, int layers, int width, int steps) throws Exception {
        Engine.getInstance().setRandomSeed(7);
        SequentialBlock block = new SequentialBlock();
        for (int l = 0; l < layers; l++) {
            block.add(Linear.builder().setUnits(width).build());
        }
        Device gpu = Device.gpu();
        try (Model model = Model.newInstance("gpu-bench", gpu)) {
            model.setBlock(block);
            Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(1e-4f)).build();
            try (Trainer trainer = model.newTrainer(new DefaultTrainingConfig(Loss.l2Loss()).optOptimizer(adam)
                    .optDevices(new Device[] {gpu}))) {
                Shape input = new Shape(8, width);
                trainer.initialize(input);
                NDManager manager = trainer.getManager();
                NDArray x = manager.randomNormal(input).mul(0.01f);
                NDArray y = manager.zeros(input);
                long parameters = block.getParameters().stream().mapToLong(p -> p.getValue().getArray().size()).sum();
                NDArray last = block.getParameters().get(block.getParameters().size() - 1).getValue().getArray();
                long before = -1;
                long after = -1;
                double[] ms = new double[Math.max(steps, 1)];
                int rounds = timing ? 3 + steps : steps;
                for (int s = 0; s < rounds; s++) {
                    if (s == 0 || !timing) {
                        try (GradientCollector collector = trainer.newGradientCollector()) {
                            NDArray prediction = trainer.forward(new NDList(x)).singletonOrThrow();
                            collector.backward(trainer.getLoss().evaluate(new NDList(y), new NDList(prediction)));
                        }
                    }
                    last.getFloat(0); // wait for the GPU
                    if (s == 0) {
                        before = processGpuMemory();
                    }
                    long t0 = System.nanoTime();
                    trainer.step();
                    last.getFloat(0);
                    long t1 = System.nanoTime();
                    if (s == 0) {
                        after = processGpuMemory();
                    }
                    if (timing && s >= 3) {
                        ms[s - 3] = (t1 - t0) / 1e6;
                    }
                }
                if (timing) {
                    Arrays.sort(ms);
                    System.out.printf(Locale.ROOT, "result step parameters %d layers %d width %d median_ms %.3f p10 %.3f p90 %.3f"
                            + " gpu_mib_before_first_step %d after %d%n", parameters, layers, width, ms[ms.length / 2],
                            ms[ms.length / 10], ms[ms.length * 9 / 10], before, after);
                } else {
                    System.out.printf(Locale.ROOT, "result fit ok layers %d width %d parameters %d gpu_mib %d%n", layers,
                            width, parameters, after);
                }
            }
        }
    }

    /** The GPU memory (MiB) the driver counts for this process, from nvidia-smi; -1 where it cannot say. */
    private static long processGpuMemory() {
        try {
            Process p = new ProcessBuilder("nvidia-smi", "--query-compute-apps=pid,used_memory",
                    "--format=csv,noheader,nounits").redirectErrorStream(true).start();
            String pid = String.valueOf(ProcessHandle.current().pid());
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                long found = -1;
                while ((line = r.readLine()) != null) {
                    String[] f = line.split(",");
                    if (f.length == 2 && f[0].trim().equals(pid)) {
                        found = Long.parseLong(f[1].trim());
                    }
                }
                p.waitFor();
                return found;
            }
        } catch (Exception e) {
            return -1;
        }
    }
}
