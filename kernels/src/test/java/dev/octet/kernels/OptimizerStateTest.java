package dev.octet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class OptimizerStateTest {

    private static final StatisticKind[] ADAM = {StatisticKind.SIGNED, StatisticKind.UNSIGNED};
    private static final int N = 1000;

    /** Statistics as Adam's would be: a signed first moment, a non-negative second. */
    private static float[][] values() {
        Random random = new Random(5);
        float[][] v = new float[2][N];
        for (int i = 0; i < N; i++) {
            v[0][i] = (float) random.nextGaussian() * 1e-3f;
            v[1][i] = v[0][i] * v[0][i] * (1 + random.nextFloat());
        }
        return v;
    }

    private static OptimizerState filled(OptimizerState state) {
        float[][] v = values();
        for (int k = 0; k < 2; k++) {
            state.encodeFrom(k, v[k]);
        }
        return state;
    }

    private static float[] decoded(OptimizerState state, int k) {
        float[] out = new float[state.length()];
        state.decodeInto(k, out);
        return out;
    }

    @Test
    void copiesAStateStoredAlikeExactly() {
        QuantizedState source = (QuantizedState) filled(QuantizedState.allocate(N, 256, ADAM));
        QuantizedState target = QuantizedState.allocateDirect(N, 256, ADAM);
        target.copyFrom(source);
        for (int k = 0; k < 2; k++) {
            assertEquals(source.codes(k), target.codes(k), "codes of statistic " + k);
            assertEquals(source.absmax(k), target.absmax(k), "absmax of statistic " + k);
        }
        Float32State floats = (Float32State) filled(Float32State.allocate(N, ADAM));
        Float32State floatTarget = Float32State.allocateDirect(N, ADAM);
        floatTarget.copyFrom(floats);
        assertArrayEquals(decoded(floats, 1), decoded(floatTarget, 1));
    }

    @Test
    void convertsBetweenFormatsAndBlockSizes() {
        float[][] v = values();
        OptimizerState eightBit = filled(QuantizedState.allocate(N, 256, ADAM));

        Float32State asFloat = Float32State.allocate(N, ADAM);
        asFloat.copyFrom(eightBit);
        assertArrayEquals(decoded(eightBit, 0), decoded(asFloat, 0), "8-bit to float32 is the decoded values");

        QuantizedState otherBlocks = QuantizedState.allocate(N, 64, ADAM);
        otherBlocks.copyFrom(eightBit);
        QuantizedState fromFloat = QuantizedState.allocate(N, 2048, ADAM);
        fromFloat.copyFrom(filled(Float32State.allocate(N, ADAM)));
        for (int k = 0; k < 2; k++) {
            float[] a = decoded(otherBlocks, k);
            float[] b = decoded(fromFloat, k);
            float largest = 0;
            for (float x : v[k]) {
                largest = Math.max(largest, Math.abs(x));
            }
            for (int i = 0; i < N; i++) {
                // The dynamic maps' coarsest step (near 1) is 0.9/64 of a block's absmax: rounded twice,
                // an element is off by less than one such step of the largest value.
                assertEquals(v[k][i], a[i], 0.9 / 64 * largest, "statistic " + k + " element " + i);
                assertEquals(v[k][i], b[i], 0.9 / 64 * largest, "statistic " + k + " element " + i);
            }
        }
    }

    @Test
    void refusesAStateOfAnotherShape() {
        OptimizerState state = QuantizedState.allocate(N, 256, ADAM);
        assertThrows(IllegalArgumentException.class, () -> state.copyFrom(QuantizedState.allocate(N + 1, 256, ADAM)));
        assertThrows(IllegalArgumentException.class,
                () -> state.copyFrom(QuantizedState.allocate(N, 256, StatisticKind.SIGNED, StatisticKind.SIGNED)));
    }
}
