package dev.octet.kernels;

import java.util.Arrays;

/**
 * Quantization of one block held in local arrays: the absmax, then the nearest code of every element.
 * Everything that stores 8-bit values (the stand-alone quantizer, the optimizer state) goes through here.
 *
 * <p>Defined results for awkward inputs:
 * <ul>
 *   <li>a block of zeros stores absmax 0 and the map's zero code (decodes to 0);
 *   <li>denormal values are normalized by division rather than by the (infinite) reciprocal of a
 *       denormal absmax, so they keep their relative precision;
 *   <li>NaN stores the zero code; +-Inf saturates to the largest code of its sign, with the block's
 *       absmax taken over its finite values (so it decodes to +-absmax); the finite values of such a
 *       block are quantized as usual.
 * </ul>
 */
final class BlockCodec {

    private BlockCodec() {
    }

    /**
     * Quantizes {@code values[0..n)} into {@code codes[0..n)} and returns the block's absmax, with the
     * directed roundings of {@link QuantizationMap#nearestCode(float, boolean, boolean)}.
     */
    static float encode(float[] values, int n, byte[] codes, QuantizationMap map, boolean keepSign,
            boolean keepPositive) {
        return encode(values, n, largestMagnitude(values, n), codes, map, keepSign, keepPositive);
    }

    /** {@link #encode} of a block whose {@link #largestMagnitude} is already known. */
    static float encode(float[] values, int n, float absmax, byte[] codes, QuantizationMap map, boolean keepSign,
            boolean keepPositive) {
        if (absmax == 0f) {
            Arrays.fill(codes, 0, n, (byte) map.zeroCode());
            return 0f;
        }
        if (!(absmax <= Float.MAX_VALUE)) {
            return encodeWithNonFinite(values, n, codes, map, keepSign, keepPositive);
        }
        float reciprocal = 1f / absmax;
        if (reciprocal > Float.MAX_VALUE) {
            // Denormal absmax: its reciprocal overflows, divide instead.
            for (int i = 0; i < n; i++) {
                codes[i] = (byte) map.nearestCode(values[i] / absmax, keepSign, keepPositive);
            }
        } else {
            byte[] buckets = map.buckets(keepSign);
            float[] floors = map.midpointFloors(keepSign, keepPositive);
            NearestCodeLattice lattice;
            if (CpuCodec.simd() && (lattice = map.lattice(keepSign, keepPositive)) != null) {
                VectorCodec.encodeNormalized(values, n, reciprocal, codes, map, lattice, buckets, floors);
                return absmax;
            }
            tableSearch(values, 0, n, reciprocal, codes, map, buckets, floors);
        }
        return absmax;
    }

    /**
     * The scalar table search for {@code values[from..to)} times {@code reciprocal}: the scalar codec's whole
     * block, and the SIMD codec's flagged vectors and the elements after its last vector. The dynamic maps'
     * tables are passed on as constants ({@link DynamicTables}); any other map's as they come.
     */
    static void tableSearch(float[] values, int from, int to, float reciprocal, byte[] codes, QuantizationMap map,
            byte[] buckets, float[] floors) {
        if (floors == DynamicTables.SIGNED_FLOORS && buckets == DynamicTables.SIGNED_BUCKETS) {
            searchLoop(values, from, to, reciprocal, codes, DynamicTables.SIGNED_BUCKETS, DynamicTables.SIGNED_FLOORS,
                    DynamicTables.SIGNED_SHIFT);
        } else if (floors == DynamicTables.SIGNED_FLOORS_KEEPING_SIGN && buckets == DynamicTables.SIGNED_BUCKETS_KEEPING_SIGN) {
            searchLoop(values, from, to, reciprocal, codes, DynamicTables.SIGNED_BUCKETS_KEEPING_SIGN,
                    DynamicTables.SIGNED_FLOORS_KEEPING_SIGN, DynamicTables.SIGNED_SHIFT);
        } else if (floors == DynamicTables.SIGNED_FLOORS_KEEPING_POSITIVE && buckets == DynamicTables.SIGNED_BUCKETS) {
            searchLoop(values, from, to, reciprocal, codes, DynamicTables.SIGNED_BUCKETS,
                    DynamicTables.SIGNED_FLOORS_KEEPING_POSITIVE, DynamicTables.SIGNED_SHIFT);
        } else if (floors == DynamicTables.SIGNED_FLOORS_KEEPING_SIGN_AND_POSITIVE
                && buckets == DynamicTables.SIGNED_BUCKETS_KEEPING_SIGN) {
            searchLoop(values, from, to, reciprocal, codes, DynamicTables.SIGNED_BUCKETS_KEEPING_SIGN,
                    DynamicTables.SIGNED_FLOORS_KEEPING_SIGN_AND_POSITIVE, DynamicTables.SIGNED_SHIFT);
        } else if (floors == DynamicTables.UNSIGNED_FLOORS && buckets == DynamicTables.UNSIGNED_BUCKETS) {
            searchLoop(values, from, to, reciprocal, codes, DynamicTables.UNSIGNED_BUCKETS,
                    DynamicTables.UNSIGNED_FLOORS, DynamicTables.UNSIGNED_SHIFT);
        } else if (floors == DynamicTables.UNSIGNED_FLOORS_KEEPING_POSITIVE && buckets == DynamicTables.UNSIGNED_BUCKETS) {
            searchLoop(values, from, to, reciprocal, codes, DynamicTables.UNSIGNED_BUCKETS,
                    DynamicTables.UNSIGNED_FLOORS_KEEPING_POSITIVE, DynamicTables.UNSIGNED_SHIFT);
        } else {
            searchLoop(values, from, to, reciprocal, codes, buckets, floors, 23 - map.mantissaBits());
        }
    }

    /**
     * {@link QuantizationMap#codeOfNormalized} over a range. Inlined into {@link #tableSearch} with constant
     * tables, the JIT knows their lengths: a bucket index masked by the table's length (which changes nothing:
     * the table spans every float's top bits) and a code of 0..255 then need no bounds check, two fewer per element.
     */
    private static void searchLoop(float[] values, int from, int to, float reciprocal, byte[] codes, byte[] buckets,
            float[] floors, int shift) {
        int mask = buckets.length - 1;
        for (int i = from; i < to; i++) {
            float x = values[i] * reciprocal;
            int code = buckets[(Float.floatToRawIntBits(x) >>> shift) & mask] & 0xFF;
            codes[i] = (byte) (code + (Float.floatToRawIntBits(floors[code] - x) >>> 31));
        }
    }

    /**
     * The largest {@code |values[i]|} of {@code i < n} (0 for none): NaN if any value is NaN, else
     * infinite if any is infinite. Math.max keeps a NaN, and the JIT turns this loop into vector max
     * instructions; it does not for the same maximum over the floats' bits as ints (with that loop
     * here and in the gradient check, an 8-bit Adam step took 6.0 ns per parameter instead of 4.7).
     */
    static float largestMagnitude(float[] values, int n) {
        if (CpuCodec.simd()) {
            return VectorCodec.largestMagnitude(values, n);
        }
        float largest = 0f;
        for (int i = 0; i < n; i++) {
            largest = Math.max(largest, Math.abs(values[i]));
        }
        return largest;
    }

    private static float encodeWithNonFinite(float[] values, int n, byte[] codes, QuantizationMap map,
            boolean keepSign, boolean keepPositive) {
        float absmax = 0f;
        for (int i = 0; i < n; i++) {
            if (Float.isFinite(values[i])) {
                absmax = Math.max(absmax, Math.abs(values[i]));
            }
        }
        for (int i = 0; i < n; i++) {
            float x = values[i];
            int c;
            if (Float.isNaN(x)) {
                c = map.zeroCode();
            } else if (Float.isInfinite(x)) {
                c = x > 0 ? map.maxCode() : map.minCode();
            } else {
                c = absmax == 0f ? map.zeroCode() : map.nearestCode(x / absmax, keepSign, keepPositive);
            }
            codes[i] = (byte) c;
        }
        return absmax;
    }

    /** Decodes {@code codes[0..n)} of a block with this absmax into {@code values[0..n)}. */
    static void decode(byte[] codes, int n, float absmax, QuantizationMap map, float[] values) {
        if (CpuCodec.simd() && VectorCodec.DECODES && (map == DynamicTables.SIGNED || map == DynamicTables.UNSIGNED)) {
            VectorCodec.decode(codes, n, absmax, map == DynamicTables.SIGNED, values);
        } else if (map == DynamicTables.SIGNED) {
            decodeLoop(codes, n, absmax, DynamicTables.SIGNED_VALUES, values);
        } else if (map == DynamicTables.UNSIGNED) {
            decodeLoop(codes, n, absmax, DynamicTables.UNSIGNED_VALUES, values);
        } else {
            decodeLoop(codes, n, absmax, map.valuesUnsafe(), values);
        }
    }

    /** Inlined into {@link #decode} with a constant table of 256 values: the look-up needs no bounds check. */
    private static void decodeLoop(byte[] codes, int n, float absmax, float[] table, float[] values) {
        for (int i = 0; i < n; i++) {
            values[i] = table[codes[i] & 0xFF] * absmax;
        }
    }

    /**
     * The dynamic maps' search and decode tables as static finals: constants to the JIT, lengths included,
     * where the same arrays reached through a map's fields are not. Every 8-bit statistic uses one of these.
     */
    private static final class DynamicTables {
        static final QuantizationMap SIGNED = QuantizationMap.dynamicSigned();
        static final QuantizationMap UNSIGNED = QuantizationMap.dynamicUnsigned();
        static final float[] SIGNED_VALUES = SIGNED.valuesUnsafe();
        static final float[] UNSIGNED_VALUES = UNSIGNED.valuesUnsafe();
        static final int SIGNED_SHIFT = 23 - SIGNED.mantissaBits();
        static final int UNSIGNED_SHIFT = 23 - UNSIGNED.mantissaBits();
        static final byte[] SIGNED_BUCKETS = SIGNED.buckets(false);
        static final byte[] SIGNED_BUCKETS_KEEPING_SIGN = SIGNED.buckets(true);
        static final byte[] UNSIGNED_BUCKETS = UNSIGNED.buckets(false);
        static final float[] SIGNED_FLOORS = SIGNED.midpointFloors(false, false);
        static final float[] SIGNED_FLOORS_KEEPING_SIGN = SIGNED.midpointFloors(true, false);
        static final float[] SIGNED_FLOORS_KEEPING_POSITIVE = SIGNED.midpointFloors(false, true);
        static final float[] SIGNED_FLOORS_KEEPING_SIGN_AND_POSITIVE = SIGNED.midpointFloors(true, true);
        static final float[] UNSIGNED_FLOORS = UNSIGNED.midpointFloors(false, false);
        static final float[] UNSIGNED_FLOORS_KEEPING_POSITIVE = UNSIGNED.midpointFloors(false, true);
    }
}
