package dev.octet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class QuantizationMapTest {

    static Stream<Arguments> maps() {
        return Stream.of(
                Arguments.of("map/dynamic_signed", QuantizationMap.dynamicSigned()),
                Arguments.of("map/dynamic_unsigned", QuantizationMap.dynamicUnsigned()));
    }

    @ParameterizedTest
    @MethodSource("maps")
    void mapsEqualTheReferenceBitForBit(String array, QuantizationMap map) {
        // docs/technique.md section 2 asks for one ulp; building the linspace the reference's way gives zero.
        assertArrayEquals(Golden.file().floats(array), map.values(), 0f);
    }

    @Test
    void mapsHaveTheShapeOfTheFormula() {
        QuantizationMap signed = QuantizationMap.dynamicSigned();
        QuantizationMap unsigned = QuantizationMap.dynamicUnsigned();
        assertEquals(127, signed.zeroCode());
        assertEquals(0f, signed.value(127));
        assertEquals(1f, signed.value(255));
        assertTrue(signed.value(0) > -1f && signed.value(0) < -0.99f);
        assertEquals(0, unsigned.zeroCode());
        assertEquals(1f, unsigned.value(255));
        for (int c = 1; c < 256; c++) {
            assertTrue(signed.value(c) > signed.value(c - 1), "signed map strictly increasing at " + c);
            assertTrue(unsigned.value(c) > unsigned.value(c - 1), "unsigned map strictly increasing at " + c);
        }
    }

    @ParameterizedTest
    @MethodSource("maps")
    void tableSearchEqualsExactSearchOnAFineGrid(String array, QuantizationMap map) {
        int steps = 1 << 22;
        for (int i = 0; i <= steps; i++) {
            float x = -1f + 2f * i / steps;
            assertEquals(map.nearestByBinarySearch(x), map.nearestCode(x), () -> "at " + x);
        }
        // Tiny magnitudes (the exponent range of the smallest codes), logarithmically.
        for (double m = 1e-12; m < 1; m *= 1.0001) {
            for (float x : new float[] {(float) m, (float) -m}) {
                assertEquals(map.nearestByBinarySearch(x), map.nearestCode(x), () -> "at " + x);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("maps")
    void tableSearchIsExactAroundEveryMidpoint(String array, QuantizationMap map) {
        float[] v = map.values();
        for (int c = 0; c < 255; c++) {
            double mid = ((double) v[c] + v[c + 1]) / 2;
            float x = (float) mid;
            for (int k = 0; k < 8; k++) {
                for (float y : new float[] {x, -x}) {
                    assertEquals(map.nearestByBinarySearch(y), map.nearestCode(y), "at " + y);
                    float nearest = exactNearest(v, y);
                    assertEquals(nearest, v[map.nearestCode(y)], "value nearest to " + y);
                }
                x = Math.nextUp(x);
            }
            assertEquals(c, map.nearestCode(v[c]), "a map value encodes as itself");
        }
    }

    private static float exactNearest(float[] values, float x) {
        int best = 0;
        for (int c = 1; c < 256; c++) {
            if (Math.abs((double) x - values[c]) < Math.abs((double) x - values[best])) {
                best = c;
            }
        }
        return values[best];
    }

    /**
     * The directed roundings folded into the search tables, against the exact search with the fix
     * applied afterwards: the sign fix (a negative value moves off the zero code, down) and keeping
     * positive values off the zero code (up), alone and together, on a fine grid and on every decade
     * of tiny magnitudes.
     */
    @Test
    void foldedRoundingsEqualTheFixAfterTheExactSearch() {
        for (QuantizationMap map : new QuantizationMap[] {QuantizationMap.dynamicSigned(), QuantizationMap.dynamicUnsigned()}) {
            for (boolean keepSign : map.canKeepSign() ? new boolean[] {false, true} : new boolean[] {false}) {
                for (boolean keepPositive : new boolean[] {false, true}) {
                    int steps = 1 << 21;
                    for (int i = 0; i <= steps; i++) {
                        checkFolded(map, keepSign, keepPositive, -1f + 2f * i / steps);
                    }
                    for (double m = 1e-45; m < 1; m *= 1.001) {
                        checkFolded(map, keepSign, keepPositive, (float) m);
                        checkFolded(map, keepSign, keepPositive, (float) -m);
                    }
                    for (float x : new float[] {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1f, -1f}) {
                        checkFolded(map, keepSign, keepPositive, x);
                    }
                }
            }
        }
        QuantizationMap signed = QuantizationMap.dynamicSigned();
        assertEquals(126, signed.nearestCode(-0f, true, false));
        assertEquals(127, signed.nearestCode(0f, true, true));
        assertEquals(128, signed.nearestCode(Float.MIN_VALUE, true, true));
        QuantizationMap unsigned = QuantizationMap.dynamicUnsigned();
        assertEquals(0, unsigned.nearestCode(1e-20f));
        assertEquals(1, unsigned.nearestCode(1e-20f, false, true));
        assertEquals(0, unsigned.nearestCode(0f, false, true));
        assertEquals(0, unsigned.nearestCode(-0f, false, true));
    }

    private static void checkFolded(QuantizationMap map, boolean keepSign, boolean keepPositive, float x) {
        int expected = map.nearestByBinarySearch(x);
        int zero = map.zeroCode();
        if (keepSign && expected == zero && Float.floatToRawIntBits(x) < 0) {
            expected--;
        }
        if (keepPositive && expected == zero && x > 0f) {
            expected++;
        }
        int actual = map.nearestCode(x, keepSign, keepPositive);
        if (actual != expected) {
            assertEquals(expected, actual, map + " keepSign " + keepSign + " keepPositive " + keepPositive + " at " + x);
        }
    }

    @Test
    void signFixKeepsTheSignOfTinyValues() {
        QuantizationMap map = QuantizationMap.dynamicSigned();
        // Far below the smallest code: the nearest is zero (positive), so a negative value moves down.
        assertEquals(127, map.nearestCode(-1e-12f));
        assertEquals(126, map.nearestCodeKeepingSign(-1e-12f));
        assertEquals(127, map.nearestCodeKeepingSign(1e-12f));
        assertEquals(127, map.nearestCodeKeepingSign(0f));
        assertTrue(map.value(map.nearestCodeKeepingSign(-1e-12f)) < 0f);
    }

    @Test
    void outOfRangeInputsSaturate() {
        QuantizationMap map = QuantizationMap.dynamicSigned();
        assertEquals(255, map.nearestCode(1.5f));
        assertEquals(255, map.nearestCode(Float.POSITIVE_INFINITY));
        assertEquals(0, map.nearestCode(-7f));
        assertEquals(0, map.nearestCode(Float.NEGATIVE_INFINITY));
    }
}
