package dev.octet.examples.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.kernels.BlockwiseQuantizer;
import dev.octet.kernels.QuantizationMap;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The study measures the kernels' encoding, and its linear maps are what it says. */
class QuantizationErrorStudyTest {

    @Test
    void blockWiseSchemesEncodeAsTheKernelsCodec() {
        Random rnd = new Random(4);
        float[] x = new float[10_000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(6) - 3));
        }
        for (QuantizationMap map : new QuantizationMap[] {QuantizationMap.dynamicSigned(), QuantizationMap.dynamicUnsigned()}) {
            float[] input = map == QuantizationMap.dynamicUnsigned() ? abs(x) : x;
            for (int block : new int[] {256, 2048, 4096}) {
                BlockwiseQuantizer codec = new BlockwiseQuantizer(map, block);
                ByteBuffer codes = ByteBuffer.allocate(input.length);
                FloatBuffer absmax = FloatBuffer.allocate(codec.blocks(input.length));
                codec.quantize(FloatBuffer.wrap(input), input.length, codes, absmax);
                float[] decoded = new float[input.length];
                codec.dequantize(codes, absmax, input.length, FloatBuffer.wrap(decoded));
                float[] study = QuantizationErrorStudy.quantized(input, map, block, false, false);
                // The codec multiplies by the reciprocal of absmax, the study divides: the rare value on a
                // decision midpoint may land one code apart.
                int differ = 0;
                for (int i = 0; i < input.length; i++) {
                    differ += Float.compare(decoded[i], study[i]) != 0 ? 1 : 0;
                }
                assertTrue(differ <= input.length / 1000, map.name() + " B=" + block + ": " + differ + " values differ");
            }
        }
    }

    @Test
    void theLinearMapsHoldZeroAndBothEnds() {
        List<QuantizationErrorStudy.Scheme> schemes = QuantizationErrorStudy.schemes();
        assertEquals(8, schemes.size());
        QuantizationErrorStudy.Scheme linear = schemes.get(0);
        assertEquals("linear", linear.map());
        assertTrue(linear.signed().canKeepSign());
        assertEquals(0f, linear.signed().value(linear.signed().zeroCode()));
        assertEquals(1f, linear.signed().value(255));
        assertEquals(-1f, linear.signed().value(linear.signed().nearestCode(-1f)));
        assertEquals(0f, linear.unsigned().value(0));
        assertEquals(1f, linear.unsigned().value(255));
        float[] tensorWise = QuantizationErrorStudy.quantized(new float[] {0.5f, -2f, 0f}, linear.signed(), 0, true, false);
        assertArrayEquals(new float[] {2f * 32 / 127, -2f, 0f}, tensorWise, 1e-6f);
    }

    private static float[] abs(float[] x) {
        float[] a = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            a[i] = Math.abs(x[i]);
        }
        return a;
    }
}
