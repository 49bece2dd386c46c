package dev.octet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BlockwiseQuantizerTest {

    private static final QuantizationMap SIGNED = QuantizationMap.dynamicSigned();

    private record Quantized(byte[] codes, float[] absmax, float[] decoded) {
    }

    private static Quantized roundTrip(float[] input, int blockSize, KernelPool pool) {
        var q = new BlockwiseQuantizer(SIGNED, blockSize, pool);
        ByteBuffer codes = ByteBuffer.allocate(input.length);
        FloatBuffer absmax = FloatBuffer.allocate(q.blocks(input.length));
        q.quantize(FloatBuffer.wrap(input), input.length, codes, absmax);
        FloatBuffer decoded = FloatBuffer.allocate(input.length);
        q.dequantize(codes, absmax, input.length, decoded);
        return new Quantized(codes.array(), absmax.array(), decoded.array());
    }

    @ParameterizedTest
    @ValueSource(ints = {256, 2048, 4096})
    void codesAndAbsmaxEqualTheReference(int blockSize) {
        float[] input = Golden.file().floats("qb/input");
        String prefix = "qb/bs" + blockSize + "/";
        Quantized q = roundTrip(input, blockSize, KernelPool.shared());
        assertArrayEquals(Golden.file().bytes(prefix + "codes"), q.codes());
        assertArrayEquals(Golden.file().floats(prefix + "absmax"), q.absmax(), 0f);
        assertArrayEquals(Golden.file().floats(prefix + "dequant"), q.decoded(), 0f);
    }

    @ParameterizedTest
    @ValueSource(ints = {64, 128, 256, 512, 1024, 2048, 4096})
    void everyPowerOfTwoBlockSizeRoundTripsWithinTheMapsResolution(int blockSize) {
        Random random = new Random(blockSize);
        float[] input = new float[blockSize * 5 + 37]; // not a multiple of the block
        for (int i = 0; i < input.length; i++) {
            input[i] = (float) (random.nextGaussian() * Math.exp(random.nextGaussian() * 3));
        }
        Quantized q = roundTrip(input, blockSize, KernelPool.shared());
        for (int i = 0; i < input.length; i++) {
            float absmax = q.absmax()[i / blockSize];
            // The dynamic map's largest gap is under 1.5% of absmax (its top decade has 64 steps).
            assertTrue(Math.abs(q.decoded()[i] - input[i]) <= 0.015f * absmax, "element " + i);
        }
        for (int b = 0; b < q.absmax().length; b++) {
            float max = 0;
            for (int i = b * blockSize; i < Math.min(input.length, (b + 1) * blockSize); i++) {
                max = Math.max(max, Math.abs(input[i]));
            }
            assertEquals(max, q.absmax()[b], 0f);
        }
    }

    @Test
    void resultsDoNotDependOnThreadsOrMemoryKind() {
        Random random = new Random(7);
        float[] input = new float[1 << 20];
        for (int i = 0; i < input.length; i++) {
            input[i] = (float) random.nextGaussian();
        }
        Quantized one = roundTrip(input, 256, KernelPool.ofThreads(1));
        Quantized many = roundTrip(input, 256, KernelPool.ofThreads(4));
        assertArrayEquals(one.codes(), many.codes());

        FloatBuffer direct = ByteBuffer.allocateDirect(4 * input.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
        direct.put(0, input);
        ByteBuffer codes = ByteBuffer.allocateDirect(input.length);
        FloatBuffer absmax = ByteBuffer.allocateDirect(4 * 4096).order(ByteOrder.nativeOrder()).asFloatBuffer();
        new BlockwiseQuantizer(SIGNED, 256).quantize(direct, input.length, codes, absmax);
        byte[] directCodes = new byte[input.length];
        codes.get(0, directCodes);
        assertArrayEquals(one.codes(), directCodes);
    }

    @Test
    void zeroBlockStoresZeroAbsmaxAndDecodesToZero() {
        float[] input = new float[512];
        input[300] = 0.5f; // second block non-zero
        Quantized q = roundTrip(input, 256, KernelPool.shared());
        assertEquals(0f, q.absmax()[0]);
        for (int i = 0; i < 256; i++) {
            assertEquals(SIGNED.zeroCode(), q.codes()[i] & 0xFF);
            assertEquals(0f, q.decoded()[i]);
        }
        assertEquals(0.5f, q.decoded()[300]);
    }

    @Test
    void denormalsKeepTheirRelativePrecision() {
        float[] input = new float[256];
        for (int i = 0; i < input.length; i++) {
            input[i] = Float.MIN_VALUE * (i + 1) * (i % 2 == 0 ? 1 : -1);
        }
        Quantized q = roundTrip(input, 256, KernelPool.shared());
        assertEquals(Float.MIN_VALUE * 256, q.absmax()[0]);
        // -absmax encodes as the signed map's most negative code (about -0.992).
        assertEquals(SIGNED.value(0) * q.absmax()[0], q.decoded()[255]);
        for (int i = 0; i < input.length; i++) {
            assertEquals(Math.signum(input[i]), Math.signum(q.decoded()[i]), "sign of element " + i);
        }
    }

    @Test
    void nanStoresZeroAndInfinitySaturatesToTheFiniteAbsmax() {
        float[] input = new float[256];
        for (int i = 0; i < input.length; i++) {
            input[i] = (i - 128) / 100f;
        }
        input[3] = Float.NaN;
        input[4] = Float.POSITIVE_INFINITY;
        input[5] = Float.NEGATIVE_INFINITY;
        Quantized q = roundTrip(input, 256, KernelPool.shared());
        float finiteMax = 128 / 100f;
        assertEquals(finiteMax, q.absmax()[0]);
        assertEquals(0f, q.decoded()[3]);
        assertEquals(finiteMax, q.decoded()[4]);
        assertEquals(SIGNED.value(0) * finiteMax, q.decoded()[5]);
        assertEquals(input[200], q.decoded()[200], 0.015f * finiteMax);
    }

    /**
     * docs/technique.md section 6 (the paper's error table): on an Adam-like first statistic with outliers, the mean
     * absolute error ranks block-wise dynamic < tensor-wise dynamic < tensor-wise linear.
     */
    @Test
    void blockwiseDynamicQuantizationHasTheLowestErrorOnAdamLikeState() {
        Random random = new Random(11);
        int n = 1 << 18;
        float[] m = new float[n];
        for (int step = 0; step < 20; step++) {
            for (int i = 0; i < n; i++) {
                // Gradients whose scale varies by orders of magnitude across the tensor, with rare spikes.
                double scale = Math.exp(-4 * (i % 4096) / 4096.0) * (random.nextInt(10_000) == 0 ? 100 : 1);
                m[i] = 0.9f * m[i] + 0.1f * (float) (random.nextGaussian() * scale);
            }
        }
        float globalMax = 0;
        for (float x : m) {
            globalMax = Math.max(globalMax, Math.abs(x));
        }
        float[] linearValues = new float[256];
        for (int c = 0; c < 256; c++) {
            linearValues[c] = -1f + 2f * c / 255f;
        }
        QuantizationMap linear = QuantizationMap.of("linear", linearValues);

        double blockwise = meanError(m, roundTrip(m, 2048, KernelPool.shared()).decoded());
        double dynamic = meanError(m, tensorWise(m, SIGNED, globalMax));
        double linearError = meanError(m, tensorWise(m, linear, globalMax));
        assertTrue(blockwise < dynamic, blockwise + " < " + dynamic);
        assertTrue(dynamic < linearError, dynamic + " < " + linearError);
    }

    private static float[] tensorWise(float[] x, QuantizationMap map, float absmax) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = map.value(map.nearestCode(x[i] / absmax)) * absmax;
        }
        return out;
    }

    private static double meanError(float[] expected, float[] actual) {
        double sum = 0;
        for (int i = 0; i < expected.length; i++) {
            sum += Math.abs((double) expected[i] - actual[i]);
        }
        return sum / expected.length;
    }

    @Test
    void rejectsBlockSizesThatAreNotPowersOfTwoInRange() {
        for (int bad : new int[] {0, 32, 100, 300, 8192}) {
            assertThrows(IllegalArgumentException.class, () -> new BlockwiseQuantizer(SIGNED, bad));
        }
    }
}
