package com.example.charlm.fidelity;

import com.example.charlm.CharLanguageModel;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Real Adam state for the fidelity study: trains the DL4J char-LM (the demo's LSTM) with DL4J's own
 * float32 Adam, no agent, and after each of the given steps writes every parameter's first and second
 * moment from the updater's state view (per update block, DL4J's Adam keeps all first moments, then all
 * second moments) to {@code <out>/dl4j-step<N>.moments}, the format {@code QuantizationErrorStudy}
 * (examples/kernel-benchmarks) reads: an int count, then per parameter its name (UTF), element count
 * (int), the first moment's floats, the second moment's floats.
 *
 * <pre>AdamMoments &lt;out folder&gt; &lt;step,step,...&gt;</pre>
 */
public final class AdamMoments {

    private AdamMoments() {
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        Set<Integer> at = Arrays.stream(args[1].split(",")).map(Integer::parseInt).collect(Collectors.toSet());
        int last = at.stream().mapToInt(Integer::intValue).max().orElseThrow();
        Files.createDirectories(out);
        int[] text = CharLanguageModel.encodedCorpus(2_000_000);
        MultiLayerNetwork net = CharLanguageModel.demoNetwork(new Adam(0.002), 42);
        for (int step = 1; step <= last; step++) {
            net.fit(CharLanguageModel.batch(text, 32, 64, new Random(42 * 1_000_003L + net.getIterationCount())));
            if (at.contains(step)) {
                write(out.resolve("dl4j-step" + step + ".moments"), (BaseMultiLayerUpdater<?>) net.getUpdater());
                System.out.println("step " + step + ": moments written");
            }
        }
    }

    private static void write(Path file, BaseMultiLayerUpdater<?> updater) throws IOException {
        int count = 0;
        for (UpdaterBlock block : updater.getUpdaterBlocks()) {
            count += block.getLayersAndVariablesInBlock().size();
        }
        try (DataOutputStream o = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            o.writeInt(count);
            for (UpdaterBlock block : updater.getUpdaterBlocks()) {
                INDArray view = block.getUpdaterView();
                long half = view.length() / 2;
                long offset = 0;
                for (UpdaterBlock.ParamState ps : block.getLayersAndVariablesInBlock()) {
                    long n = ps.getParamView().length();
                    float[] m = view.get(NDArrayIndex.interval(offset, offset + n)).toFloatVector();
                    float[] v = view.get(NDArrayIndex.interval(half + offset, half + offset + n)).toFloatVector();
                    String layer = ps.getLayer() instanceof Layer l ? String.valueOf(l.getIndex())
                            : ps.getLayer().getConfig().getLayerName();
                    o.writeUTF(layer + "_" + ps.getParamName());
                    o.writeInt((int) n);
                    for (float x : m) {
                        o.writeFloat(x);
                    }
                    for (float x : v) {
                        o.writeFloat(x);
                    }
                    offset += n;
                }
            }
        }
    }
}
