package dev.octet.adapters.dl4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.adapters.core.PackedStateLayout;
import dev.octet.kernels.StatisticKind;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Where DL4J averages or moves updater state views (ParallelWrapper, dl4j-spark), octet's views are
 * decoded, averaged as float32 and quantized again with fresh block maxima; views octet does not pack
 * are left to DL4J. Real ND4J arrays, octet's layout registered as its updater construction does.
 */
class Dl4jSparkTest {

    /** Adam's two statistics: an 8-bit weight of 1,000 elements and a float32 bias of 10. */
    private static final PackedStateLayout LAYOUT = new PackedStateLayout(List.of(new PackedStateLayout.Group("Adam",
            List.of(StatisticKind.SIGNED, StatisticKind.UNSIGNED),
            List.of(new PackedStateLayout.Param("W", 1000, 8, 256), new PackedStateLayout.Param("b", 10, 32, 256)))));

    /** A float32 state in DL4J's layout: momenta around 0, squared averages above it. */
    private static INDArray plainState(long seed) {
        Random random = new Random(seed);
        float[] words = new float[(int) LAYOUT.allFloat32().words()];
        for (int i = 0; i < words.length; i++) {
            // DL4J's layout: per statistic, per parameter (m of W and b, then v of W and b).
            words[i] = i < words.length / 2 ? (float) (random.nextGaussian() * 1e-3) : (float) (random.nextDouble() * 1e-6);
        }
        return Nd4j.createFromArray(words).reshape(1, words.length);
    }

    /** A view laid out by octet, registered as its updater does, holding {@code plain} quantized. */
    private static INDArray octetView(INDArray plain) {
        INDArray view = Nd4j.zeros(DataType.FLOAT, 1, LAYOUT.words());
        Dl4jCheckpoints.register(view, LAYOUT);
        if (plain != null) {
            assertTrue(Dl4jCheckpoints.applyState(view, plain));
        }
        return view;
    }

    private static int[] words(INDArray view) {
        int[] out = new int[(int) view.length()];
        Dl4jMemory.bytes(view).asIntBuffer().get(out);
        return out;
    }

    @Test
    void averagedViewsHoldTheMeanOfTheDecodedStatisticsQuantizedAgain() {
        INDArray a = octetView(plainState(1));
        INDArray b = octetView(plainState(2));
        INDArray mean = Dl4jCheckpoints.decoded(a).add(Dl4jCheckpoints.decoded(b)).divi(2);
        INDArray expected = octetView(mean);

        Dl4jSpark.averageStates(null, List.of(a, b));

        assertArrayEquals(words(expected), words(a));
        assertArrayEquals(words(expected), words(b));
        // Decoded, the average is the mean of what each view held, within 8-bit block-wise rounding.
        INDArray decoded = Dl4jCheckpoints.decoded(a);
        double error = decoded.sub(mean).norm2Number().doubleValue() / mean.norm2Number().doubleValue();
        assertTrue(error < 0.02, "relative error of the averaged state: " + error);
    }

    @Test
    void viewsOctetDoesNotPackAreAveragedByDl4j() {
        INDArray a = plainState(3);
        INDArray b = plainState(4);
        INDArray mean = a.add(b).divi(2);
        Dl4jSpark.averageStates(null, List.of(a, b));
        assertEquals(mean, a);
        assertEquals(mean, b);
    }

    @Test
    void aStateFromAnotherJvmIsQuantizedIntoAnOctetViewAndAssignedToAPlainOne() {
        INDArray given = plainState(5);
        INDArray view = octetView(null);
        INDArray expected = octetView(given);
        assertSame(view, Dl4jSpark.assignState(view, given));
        assertArrayEquals(words(expected), words(view));

        INDArray plain = Nd4j.zeros(DataType.FLOAT, 1, given.length());
        Dl4jSpark.assignState(plain, given);
        assertEquals(given, plain);
    }

    @Test
    void aJoiningNodeGetsACopyOfAStateOctetDoesNotPack() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().updater(new Adam(1e-3)).list()
                .layer(new OutputLayer.Builder().nIn(4).nOut(3).activation(Activation.SOFTMAX).build()).build());
        net.init();
        INDArray view = net.getUpdater().getStateViewArray();
        view.assign(0.25);
        INDArray copy = Dl4jSpark.exportStateCopy(net.getUpdater());
        assertNotSame(view, copy);
        assertEquals(view, copy);
    }
}
