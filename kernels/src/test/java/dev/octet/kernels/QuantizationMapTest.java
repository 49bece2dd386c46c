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
        // SPEC asks for one ulp; building the linspace the reference's way gives zero.
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

    @Test
    void foldedSignFixEqualsTheSignFixAfterTheSearch() {
        QuantizationMap map = QuantizationMap.dynamicSigned();
        int steps = 1 << 21;
        for (int i = 0; i <= steps; i++) {
            float x = -1f + 2f * i / steps;
            assertEquals(map.nearestCodeKeepingSign(x), map.nearestCodeKeepingSignOfNormalized(x), "at " + x);
        }
        for (double m = 1e-12; m < 1; m *= 1.001) {
            for (float x : new float[] {(float) m, (float) -m}) {
                assertEquals(map.nearestCodeKeepingSign(x), map.nearestCodeKeepingSignOfNormalized(x), "at " + x);
            }
        }
        assertEquals(126, map.nearestCodeKeepingSignOfNormalized(-0f));
        assertEquals(127, map.nearestCodeKeepingSignOfNormalized(0f));
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
