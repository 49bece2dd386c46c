package dev.octet.kernels;

import java.util.Arrays;

/**
 * A 256-entry quantization map (sorted ascending) and a fast nearest-code search over it.
 *
 * <p>The two maps octet uses are the "dynamic tree" maps of Dettmers et al. (SPEC section 2): for
 * exponent step {@code i = 0..6}, the midpoints of {@code k} evenly spaced boundaries on [0.1, 1]
 * scaled by {@code 10^(i-6)} ({@code k = 2^i + 1} for the signed map, which also holds their
 * negatives, {@code 2^(i+1) + 1} for the unsigned one), plus 0 and 1.
 *
 * <p>Nearest-code search without a per-element binary search: a value's float bits (sign, exponent,
 * the top {@link #mantissaBits} mantissa bits) index a small table holding the number of decision
 * midpoints below that bucket; the construction checks that no bucket holds more than one midpoint,
 * so one comparison with the next midpoint settles the code. Values too small to reach the first
 * midpoint share one bucket. Midpoints are kept in double, where the average of two floats is exact,
 * so the search is exactly nearest (a tie goes to the lower code).
 */
public final class QuantizationMap {

    private static final QuantizationMap SIGNED = dynamicTree(true);
    private static final QuantizationMap UNSIGNED = dynamicTree(false);

    private final String name;
    private final float[] values;
    /** midpoints[c] = (values[c] + values[c+1]) / 2; midpoints[255] = +Inf. */
    private final double[] midpoints;
    /** isNegative[c]: whether values[c] has its sign bit set (for the sign fix). */
    private final boolean[] isNegative;
    private final int zeroCode;

    // The bucket table: index = ((sign * exponentSlots) + slot) << mantissaBits | mantissa.
    private final int mantissaBits;
    private final int lowestExponent; // biased exponent of slot 1; slot 0 holds everything smaller
    private final int exponentSlots;
    private final byte[] bucketFloor;

    private QuantizationMap(String name, float[] sortedValues) {
        if (sortedValues.length != 256) {
            throw new IllegalArgumentException("a map has 256 entries, got " + sortedValues.length);
        }
        this.name = name;
        this.values = sortedValues.clone();
        this.midpoints = new double[256];
        this.isNegative = new boolean[256];
        for (int c = 0; c < 256; c++) {
            if (c > 0 && values[c] < values[c - 1]) {
                throw new IllegalArgumentException("map entries must be sorted ascending");
            }
            midpoints[c] = c < 255 ? ((double) values[c] + values[c + 1]) / 2.0 : Double.POSITIVE_INFINITY;
            isNegative[c] = Float.floatToRawIntBits(values[c]) < 0;
        }
        this.zeroCode = nearestByBinarySearch(0f);

        // Smallest magnitude a midpoint has: everything below the power of two under it rounds to the
        // same code as zero, so those exponents need no slot of their own.
        double smallestMid = Double.POSITIVE_INFINITY;
        for (int c = 0; c < 255; c++) {
            smallestMid = Math.min(smallestMid, Math.abs(midpoints[c]));
        }
        this.lowestExponent = Math.getExponent((float) smallestMid) + 127 - 1;
        this.exponentSlots = 127 - lowestExponent + 2; // slot 0 (tiny) .. slot for [1, 2) and beyond
        int bits = 3;
        byte[] table = null;
        while (table == null) {
            table = buildBucketTable(bits);
            if (table == null) {
                bits++;
            }
        }
        this.mantissaBits = bits;
        this.bucketFloor = table;
    }

    /** The signed dynamic tree map (values in [-1, 1], 0 at code 127). */
    public static QuantizationMap dynamicSigned() {
        return SIGNED;
    }

    /** The unsigned dynamic tree map (values in [0, 1], 0 at code 0). */
    public static QuantizationMap dynamicUnsigned() {
        return UNSIGNED;
    }

    /** A map from any 256 sorted values, e.g. to compare quantization schemes. */
    public static QuantizationMap of(String name, float[] sortedValues) {
        return new QuantizationMap(name, sortedValues);
    }

    static QuantizationMap dynamicTree(boolean signed) {
        final int maxExponentSteps = 7;
        float[] data = new float[256];
        int n = 0;
        for (int i = 0; i < maxExponentSteps; i++) {
            int boundaries = signed ? (1 << i) + 1 : (1 << (i + 1)) + 1;
            float scale = (float) Math.pow(10, i - (maxExponentSteps - 1));
            for (int j = 0; j + 1 < boundaries; j++) {
                float mean = (linspace(0.1f, 1f, boundaries, j) + linspace(0.1f, 1f, boundaries, j + 1)) / 2f;
                data[n++] = scale * mean;
                if (signed) {
                    data[n++] = -scale * mean;
                }
            }
        }
        data[n++] = 0f;
        data[n++] = 1f;
        // (Both maps fill exactly 256 entries; the formula pads with zeros otherwise.)
        Arrays.sort(data);
        return new QuantizationMap(signed ? "dynamic-signed" : "dynamic-unsigned", data);
    }

    /**
     * Element {@code i} of {@code steps} evenly spaced float32 values on [start, end], computed from
     * both ends toward the middle with one rounding per element (a fused multiply-add), as the
     * reference's tensor library does on the GPU: the maps then match the reference's bit for bit.
     */
    private static float linspace(float start, float end, int steps, int i) {
        float step = (end - start) / (steps - 1);
        return i < steps / 2 ? Math.fma(step, i, start) : Math.fma(-step, steps - i - 1, end);
    }

    /** Returns the table for this many mantissa bits, or null if some bucket would hold two midpoints. */
    private byte[] buildBucketTable(int bits) {
        byte[] table = new byte[2 * exponentSlots << bits];
        for (int sign = 0; sign < 2; sign++) {
            for (int slot = 0; slot < exponentSlots; slot++) {
                for (int m = 0; m < 1 << bits; m++) {
                    // The smallest and largest magnitude whose bits land in this bucket.
                    float lowMagnitude;
                    float highMagnitude;
                    if (slot == 0) {
                        lowMagnitude = 0f;
                        highMagnitude = Math.nextDown(Float.intBitsToFloat((lowestExponent + 1) << 23));
                    } else {
                        int exponent = lowestExponent + slot;
                        int base = exponent << 23 | m << (23 - bits);
                        lowMagnitude = Float.intBitsToFloat(base);
                        highMagnitude = slot == exponentSlots - 1
                                ? Float.POSITIVE_INFINITY
                                : Float.intBitsToFloat(base | ((1 << (23 - bits)) - 1));
                    }
                    double low = sign == 0 ? lowMagnitude : -(double) highMagnitude;
                    double high = sign == 0 ? highMagnitude : -(double) lowMagnitude;
                    int floor = countMidpointsBelow(low);
                    // x in [low, high] must get floor or floor + 1: the midpoint after floor's must lie above high.
                    if (floor + 1 < 255 && midpoints[floor + 1] < high) {
                        return null;
                    }
                    table[((sign * exponentSlots + slot) << bits) | m] = (byte) floor;
                }
            }
        }
        return table;
    }

    private int countMidpointsBelow(double x) {
        int c = 0;
        while (c < 255 && midpoints[c] < x) {
            c++;
        }
        return c;
    }

    /** The code whose value is nearest to {@code x} (ties to the lower code); x should lie in [-1, 1]. */
    public int nearestCode(float x) {
        int bits = Float.floatToRawIntBits(x);
        int slot = ((bits >>> 23) & 0xFF) - lowestExponent;
        slot = slot < 0 ? 0 : Math.min(slot, exponentSlots - 1);
        int index = ((bits >>> 31) * exponentSlots + slot) << mantissaBits
                | ((bits >>> (23 - mantissaBits)) & ((1 << mantissaBits) - 1));
        int code = bucketFloor[index] & 0xFF;
        return x > midpoints[code] ? code + 1 : code;
    }

    /**
     * The nearest code, then moved one step toward {@code x}'s sign if the code's value has the
     * other sign: momentum-like statistics then never change sign through rounding (SPEC 4, step 4).
     */
    public int nearestCodeKeepingSign(float x) {
        int code = nearestCode(x);
        boolean xNegative = Float.floatToRawIntBits(x) < 0;
        if (isNegative[code] != xNegative) {
            code += x > 0f ? 1 : -1;
        }
        return code;
    }

    /** Reference search (binary search over the midpoints); used to build and check the table. */
    int nearestByBinarySearch(float x) {
        int lo = 0;
        int hi = 255;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (x > midpoints[mid]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    public float value(int code) {
        return values[code];
    }

    /** A copy of the 256 values. */
    public float[] values() {
        return values.clone();
    }

    /** Values as an array to index in hot loops (not copied: callers must not write to it). */
    float[] valuesUnsafe() {
        return values;
    }

    public int zeroCode() {
        return zeroCode;
    }

    public int minCode() {
        return 0;
    }

    public int maxCode() {
        return 255;
    }

    /** Mantissa bits the bucket table needed (for documentation and tests). */
    public int mantissaBits() {
        return mantissaBits;
    }

    /** Bytes in the bucket table (it should fit a core's L1 cache). */
    public int tableBytes() {
        return bucketFloor.length;
    }

    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name;
    }
}
