package com.example.djlcharlm.fidelity;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Adam;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import com.example.djlcharlm.DjlCharLanguageModel;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Real Adam state for the fidelity study: trains the DJL char-LM (the demo's model, CPU) with DJL's own
 * float32 Adam, no agent, and after each of the given steps writes every parameter's first and second
 * moment as DJL holds them (its private {@code means} and {@code variances}) to
 * {@code <out>/djl-step<N>.moments}, the format {@code QuantizationErrorStudy} (examples/kernel-benchmarks)
 * reads: an int count, then per parameter its name (UTF), element count (int), the first moment's floats,
 * the second moment's floats.
 *
 * <pre>AdamMoments &lt;out folder&gt; &lt;step,step,...&gt;</pre>
 */
public final class AdamMoments {

    private AdamMoments() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        Set<Integer> at = Arrays.stream(args[1].split(",")).map(Integer::parseInt).collect(Collectors.toSet());
        int last = at.stream().mapToInt(Integer::intValue).max().orElseThrow();
        Files.createDirectories(out);
        int[] text = DjlCharLanguageModel.encodedCorpus(2_000_000);
        Engine.getInstance().setRandomSeed(42);
        try (Model model = Model.newInstance("charlm")) {
            model.setBlock(DjlCharLanguageModel.block(64, 1024, 2));
            Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.002f)).build();
            try (Trainer trainer = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .optOptimizer(adam).optDevices(new Device[] {Device.cpu()}))) {
                trainer.initialize(new Shape(32, 16));
                for (int step = 1; step <= last; step++) {
                    try (NDManager batchManager = trainer.getManager().newSubManager()) {
                        NDList[] xy = DjlCharLanguageModel.batch(batchManager, text, 32, 16, new Random(42 * 1_000_003L + step));
                        try (GradientCollector collector = trainer.newGradientCollector()) {
                            NDArray prediction = trainer.forward(xy[0]).singletonOrThrow();
                            collector.backward(trainer.getLoss().evaluate(xy[1], new NDList(prediction)));
                        }
                        trainer.step();
                    }
                    if (at.contains(step)) {
                        write(out.resolve("djl-step" + step + ".moments"), model, (Adam) adam);
                        System.out.println("step " + step + ": moments written");
                    }
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static void write(Path file, Model model, Adam adam) throws IOException, ReflectiveOperationException {
        Map<String, Map<Device, NDArray>> means = (Map<String, Map<Device, NDArray>>) field(adam, "means");
        Map<String, Map<Device, NDArray>> variances = (Map<String, Map<Device, NDArray>>) field(adam, "variances");
        try (DataOutputStream o = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            o.writeInt(model.getBlock().getParameters().size());
            for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
                float[] m = means.get(p.getValue().getId()).get(Device.cpu()).toFloatArray();
                float[] v = variances.get(p.getValue().getId()).get(Device.cpu()).toFloatArray();
                o.writeUTF(p.getKey());
                o.writeInt(m.length);
                for (float x : m) {
                    o.writeFloat(x);
                }
                for (float x : v) {
                    o.writeFloat(x);
                }
            }
        }
    }

    private static Object field(Object o, String name) throws ReflectiveOperationException {
        Field f = Adam.class.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }
}
