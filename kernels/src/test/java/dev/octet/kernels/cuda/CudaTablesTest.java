package dev.octet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.octet.kernels.QuantizationMap;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The GPU's search tables (run here in Java) against the maps' exact nearest-code search. No GPU needed. */
class CudaTablesTest {

    private static void checkAgainstExact(QuantizationMap map, boolean keepSign) {
        checkAgainstExact(map, keepSign, false);
        checkAgainstExact(map, keepSign, true);
    }

    private static void checkAgainstExact(QuantizationMap map, boolean keepSign, boolean keepPositive) {
        CudaTables t = CudaTables.of(map, keepSign, keepPositive);
        int checked = 0;
        // A fine grid over [-1.01, 1.01].
        for (int i = -2_020_000; i <= 2_020_000; i++) {
            float x = i / 2_000_000f;
            check(map, keepSign, keepPositive, t, x);
            checked++;
        }
        // Every midpoint and its float neighbours, both signs.
        float[] v = map.values();
        for (int c = 0; c < 255; c++) {
            float mid = (float) (((double) v[c] + v[c + 1]) / 2.0);
            for (float x : new float[] {mid, Math.nextUp(mid), Math.nextDown(mid), v[c], Math.nextUp(v[c]),
                    Math.nextDown(v[c]), -mid, -v[c]}) {
                check(map, keepSign, keepPositive, t, x);
                checked++;
            }
        }
        // Zeros, denormals, tiny and large magnitudes, every binade from 2^-149 to 2^3, random mantissas.
        Random random = new Random(7);
        for (float x : new float[] {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 1f, -1f,
                Math.nextUp(1f), Math.nextDown(-1f), 2f, -2f, 1e30f, -1e30f, Float.MAX_VALUE, -Float.MAX_VALUE}) {
            check(map, keepSign, keepPositive, t, x);
        }
        for (int e = -149; e <= 3; e++) {
            for (int k = 0; k < 2000; k++) {
                float x = (float) Math.scalb(1.0 + random.nextDouble(), e) * (random.nextBoolean() ? 1 : -1);
                check(map, keepSign, keepPositive, t, x);
                checked++;
            }
        }
        assertEquals(true, checked > 4_000_000);
    }

    private static void check(QuantizationMap map, boolean keepSign, boolean keepPositive, CudaTables t, float x) {
        int expected = map.nearestCode(x, keepSign, keepPositive);
        int actual = t.nearestCode(x);
        if (expected != actual) {
            assertEquals(expected, actual, map + (keepSign ? " keeping sign" : "") + (keepPositive ? " keeping positive" : "")
                    + " at " + x
                    + " (bits " + Integer.toHexString(Float.floatToRawIntBits(x)) + ")");
        }
    }

    @Test
    void signedMapKeepingSign() {
        checkAgainstExact(QuantizationMap.dynamicSigned(), true);
    }

    @Test
    void signedMapPlain() {
        checkAgainstExact(QuantizationMap.dynamicSigned(), false);
    }

    @Test
    void unsignedMap() {
        checkAgainstExact(QuantizationMap.dynamicUnsigned(), false);
    }

    @Test
    void linearMapToo() {
        float[] linear = new float[256];
        for (int c = 0; c < 256; c++) {
            linear[c] = -1f + 2f * c / 255f;
        }
        checkAgainstExact(QuantizationMap.of("linear", linear), false);
    }

    @Test
    void layoutSizeMatchesTheKernelsStruct() {
        assertEquals(10496, CudaTables.BYTES);
        assertEquals(CudaTables.BYTES, CudaTables.of(QuantizationMap.dynamicSigned(), true, true).bytes().length);
    }

    @Test
    void mapsThatCannotKeepSignsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> CudaTables.of(QuantizationMap.dynamicUnsigned(), true, false));
    }
}
