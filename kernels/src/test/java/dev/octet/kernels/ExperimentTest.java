package dev.octet.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.kernels.rules.ReferenceOptimizers;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fidelity study's ablation switches ({@link Experiment}): off by default, and what they do when on. */
class ExperimentTest {

    @Test
    void withoutThePropertiesNothingChanges() {
        assertEquals("", Experiment.describe());
        assertSame(QuantizationMap.dynamicSigned(), StatisticKind.SIGNED.map());
        assertSame(QuantizationMap.dynamicUnsigned(), StatisticKind.UNSIGNED.map());
        assertEquals(256, QuantizedState.allocate(100_000, 256, StatisticKind.SIGNED).blockSize());
    }

    @Test
    void valuesAreChecked() {
        assertFalse(Experiment.parse("p", null, "dynamic", "linear"));
        assertFalse(Experiment.parse("p", "dynamic", "dynamic", "linear"));
        assertTrue(Experiment.parse("p", " Linear ", "dynamic", "linear"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Experiment.parse("octet.experiment.map", "quantile", "dynamic", "linear"));
        assertEquals("-Doctet.experiment.map=quantile is not supported. Use dynamic (the default) or linear", e.getMessage());
    }

    @Test
    void linearMapsAreEvenlySpacedAndSearchedExactly() {
        QuantizationMap signed = QuantizationMap.linearSigned();
        QuantizationMap unsigned = QuantizationMap.linearUnsigned();
        assertEquals(128, signed.zeroCode());
        assertTrue(signed.canKeepSign());
        assertEquals(0, unsigned.zeroCode());
        for (int k = 0; k < 256; k++) {
            assertEquals((k - 128) / 127f, signed.value(k));
            assertEquals(k / 255f, unsigned.value(k));
        }
        for (QuantizationMap map : new QuantizationMap[] {signed, unsigned}) {
            for (int i = -200_000; i <= 200_000; i++) {
                float x = i / 200_000f;
                assertEquals(map.nearestByBinarySearch(x), map.nearestCode(x), map + " at " + x);
            }
        }
        assertEquals(127, signed.nearestCodeKeepingSign(-1e-6f));
        assertEquals(1, unsigned.nearestCode(1e-6f, false, true));
    }

    @Test
    void tensorWiseStateIsOneBlockAndTheFusedUpdateRunsOnIt() {
        int n = 10_000; // larger than the largest block
        QuantizedState state = QuantizedState.allocateTensorWise(n, StatisticKind.SIGNED, StatisticKind.UNSIGNED);
        assertEquals(n, state.blockSize());
        Random random = new Random(16);
        float[] p = new float[n];
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            p[i] = (float) random.nextGaussian();
            g[i] = (float) (random.nextGaussian() * (i < 100 ? 10 : 0.01));
        }
        float[] p0 = p.clone();
        FloatBuffer grad = FloatBuffer.wrap(g.clone());
        FusedUpdate.apply(FloatBuffer.wrap(p), grad, state, ReferenceOptimizers.adam(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1),
                StepOptions.DEFAULT.withOutput(StepOptions.Output.APPLY_TO_PARAMS_ZEROING_GRADIENT), KernelPool.shared());
        float largestM = 0f;
        for (int i = 0; i < n; i++) {
            largestM = Math.max(largestM, Math.abs(0.1f * g[i]));
            // Adam's first step moves every element by about lr against its gradient's sign.
            assertEquals(-Math.signum(g[i]) * 1e-3f, p[i] - p0[i], 2e-5f, "element " + i);
            assertEquals(0f, grad.get(i));
        }
        assertEquals(largestM, state.absmax(0).get(0), largestM * 1e-6f);
        float[] m = new float[n];
        state.decodeInto(0, m);
        for (int i = 0; i < n; i++) {
            // One scale for the tensor: the small elements, 1000 times below its absmax, round coarsely.
            assertEquals(0.1f * g[i], m[i], largestM * 0.01f);
        }
    }
}
