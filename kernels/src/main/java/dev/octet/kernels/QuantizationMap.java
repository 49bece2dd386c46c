package dev.octet.kernels;

import java.util.Arrays;

/**
 * A 256-entry quantization map (sorted ascending) and a fast nearest-code search over it.
 *
 * <p>The two maps octet uses are the "dynamic tree" maps of Dettmers et al. (docs/technique.md section 2): for
 * exponent step {@code i = 0..6}, the midpoints of {@code k} evenly spaced boundaries on [0.1, 1]
 * scaled by {@code 10^(i-6)} ({@code k = 2^i + 1} for the signed map, which also holds their
 * negatives, {@code 2^(i+1) + 1} for the unsigned one), plus 0 and 1.
 *
 * <p>Nearest-code search without a per-element binary search (docs/technique.md section 8): the top bits of a
 * value's float (sign, exponent and the first {@link #mantissaBits} mantissa bits) index a table
 * holding the number of decision midpoints below that bucket. The construction checks that no bucket
 * holds more than one midpoint, so one comparison with the next midpoint settles the code. The table
 * spans every exponent, so the index is one shift; only the ~25 binades a normalized value can land
 * in are ever touched (a few KiB of it stay in cache). Each midpoint is kept as the largest float not
 * above the exact average of its two entries, so {@code x > midpoint} is exact for every float
 * {@code x}: the search is exactly nearest, a tie going to the lower code.
 */
public final class QuantizationMap {

    private static final QuantizationMap SIGNED = dynamicTree(true);
    private static final QuantizationMap UNSIGNED = dynamicTree(false);

    private final String name;
    private final float[] values;
    /** Exact decision midpoints: (values[c] + values[c+1]) / 2 in double; [255] = +Inf. */
    private final double[] midpoints;
    /** The largest float at or below each midpoint ([255] = Float.MAX_VALUE, above any normalized value). */
    private final float[] midpointFloors;
    private final int zeroCode;

    // The bucket table, indexed by floatBits >>> (23 - mantissaBits).
    private final int mantissaBits;
    private final byte[] bucketFloor;
    // The same search with the sign fix folded in (signed maps only): negative buckets never start at
    // the zero code, and the midpoint above the largest negative entry becomes +0, so a negative value
    // (or -0.0) can never reach the zero code.
    private final byte[] bucketFloorKeepingSign;
    private final float[] midpointFloorsKeepingSign;
    // A positive value never reaches the zero code: the midpoint above the zero entry becomes +0.
    private final float[] midpointFloorsKeepingPositive;
    private final float[] midpointFloorsKeepingSignAndPositive;
    // The arithmetic search of the SIMD codec, per (keepSign, keepPositive); null where the map has none.
    private final NearestCodeLattice[] lattices = new NearestCodeLattice[4];

    private QuantizationMap(String name, float[] sortedValues) {
        if (sortedValues.length != 256) {
            throw new IllegalArgumentException("a map has 256 entries, got " + sortedValues.length);
        }
        this.name = name;
        this.values = sortedValues.clone();
        this.midpoints = new double[256];
        this.midpointFloors = new float[256];
        for (int c = 0; c < 256; c++) {
            if (c > 0 && values[c] < values[c - 1]) {
                throw new IllegalArgumentException("map entries must be sorted ascending");
            }
            midpoints[c] = c < 255 ? ((double) values[c] + values[c + 1]) / 2.0 : Double.POSITIVE_INFINITY;
            float f = (float) midpoints[c];
            midpointFloors[c] = c == 255 ? Float.MAX_VALUE : f > midpoints[c] ? Math.nextDown(f) : f;
        }
        this.zeroCode = nearestByBinarySearch(0f);

        int bits = 3;
        byte[] table;
        while ((table = buildBucketTable(bits)) == null) {
            bits++;
        }
        this.mantissaBits = bits;
        this.bucketFloor = table;
        this.bucketFloorKeepingSign = table.clone();
        this.midpointFloorsKeepingSign = midpointFloors.clone();
        if (canKeepSign()) {
            for (int j = table.length / 2; j < table.length; j++) {
                bucketFloorKeepingSign[j] = (byte) Math.min(table[j] & 0xFF, zeroCode - 1);
            }
            midpointFloorsKeepingSign[zeroCode - 1] = 0f;
        }
        this.midpointFloorsKeepingPositive = midpointFloors.clone();
        this.midpointFloorsKeepingSignAndPositive = midpointFloorsKeepingSign.clone();
        if (zeroCode < 255) {
            midpointFloorsKeepingPositive[zeroCode] = 0f;
            midpointFloorsKeepingSignAndPositive[zeroCode] = 0f;
        }
    }

    /** The signed dynamic tree map (values in [-1, 1], 0 at code 127). */
    public static QuantizationMap dynamicSigned() {
        return SIGNED;
    }

    /** The unsigned dynamic tree map (values in [0, 1], 0 at code 0). */
    public static QuantizationMap dynamicUnsigned() {
        return UNSIGNED;
    }

    /**
     * The evenly spaced signed map, {@code k/127} for k = -128..127 (0 at code 128). Only for the
     * fidelity study's ablation ({@link Experiment}): not used by octet otherwise.
     */
    public static QuantizationMap linearSigned() {
        return Linear.SIGNED;
    }

    /** The evenly spaced unsigned map, {@code k/255} for k = 0..255; only for the ablation, as {@link #linearSigned}. */
    public static QuantizationMap linearUnsigned() {
        return Linear.UNSIGNED;
    }

    /** Built on first use only: octet's normal path never loads them. */
    private static final class Linear {
        static final QuantizationMap SIGNED = linear("linear-signed", -128, 127f);
        static final QuantizationMap UNSIGNED = linear("linear-unsigned", 0, 255f);

        private static QuantizationMap linear(String name, int first, float steps) {
            float[] values = new float[256];
            for (int i = 0; i < 256; i++) {
                values[i] = (first + i) / steps;
            }
            return new QuantizationMap(name, values);
        }
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
        QuantizationMap map = new QuantizationMap(signed ? "dynamic-signed" : "dynamic-unsigned", data);
        int[] counts = new int[maxExponentSteps];
        float[] scales = new float[maxExponentSteps];
        for (int i = 0; i < maxExponentSteps; i++) {
            counts[i] = signed ? 1 << i : 1 << (i + 1);
            scales[i] = (float) Math.pow(10, i - (maxExponentSteps - 1));
        }
        for (int v = 0; v < 4; v++) {
            boolean keepSign = (v & 1) != 0;
            if (!keepSign || map.canKeepSign()) {
                map.lattices[v] = NearestCodeLattice.build(map, map.midpoints, counts, scales, keepSign, (v & 2) != 0);
            }
        }
        return map;
    }

    /** The arithmetic search with these directed roundings (the SIMD codec's), or null: table search only. */
    NearestCodeLattice lattice(boolean keepSign, boolean keepPositive) {
        return lattices[(keepSign ? 1 : 0) | (keepPositive ? 2 : 0)];
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

    /**
     * Returns the table for this many mantissa bits, or null if some bucket of a magnitude below 2
     * (all a normalized value can be) would hold two midpoints.
     */
    private byte[] buildBucketTable(int bits) {
        int shift = 23 - bits;
        int size = 1 << (32 - shift);
        byte[] table = new byte[size];
        for (int j = 0; j < size; j++) {
            int magnitudeBits = (j << shift) & 0x7FFFFFFF;
            boolean negative = j >= size / 2;
            // The smallest and largest magnitude whose bits land in bucket j (NaN patterns: the largest).
            double lowMagnitude = Float.intBitsToFloat(magnitudeBits);
            double highMagnitude = Float.intBitsToFloat(Math.min(magnitudeBits | ((1 << shift) - 1), 0x7F7FFFFF));
            if (Double.isNaN(lowMagnitude)) {
                lowMagnitude = Float.POSITIVE_INFINITY;
                highMagnitude = Float.POSITIVE_INFINITY;
            }
            double low = negative ? -highMagnitude : lowMagnitude;
            double high = negative ? -lowMagnitude : highMagnitude;
            int floor = countMidpointsBelow(low);
            // x in [low, high] must get floor or floor + 1: the midpoint after floor's must lie above high.
            if (lowMagnitude < 2 && floor + 1 < 255 && midpoints[floor + 1] < high) {
                return null;
            }
            table[j] = (byte) floor;
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

    /** The code whose value is nearest to {@code x} (ties to the lower code); any float, NaN to the zero code. */
    public int nearestCode(float x) {
        return nearestCode(x, false, false);
    }

    /**
     * The nearest code, then moved one step toward {@code x}'s sign if the code's value has the
     * other sign: momentum-like statistics then never change sign through rounding (docs/technique.md section 4).
     *
     * <p>In a sorted map holding 0 (at {@link #zeroCode()}, sign bit clear), a positive value is never
     * nearer to a negative entry than to 0, and a negative value never nearer to a positive one; so the
     * only sign change rounding can make is a negative value (or -0.0) landing on the zero code, which
     * then moves down one code.
     */
    public int nearestCodeKeepingSign(float x) {
        return nearestCode(x, true, false);
    }

    /**
     * The nearest code with the directed roundings asked for: {@code keepSign} as
     * {@link #nearestCodeKeepingSign}; {@code keepPositive}: a value above zero whose nearest code is
     * the zero code gets the code above it instead (+0.0, -0.0 and negative values are unaffected).
     * Any float; NaN gives the zero code, values of magnitude 2 or more the end codes.
     */
    public int nearestCode(float x, boolean keepSign, boolean keepPositive) {
        if (keepSign && !canKeepSign()) {
            throw new IllegalArgumentException(name + " cannot keep signs");
        }
        if (!(Math.abs(x) < 2f)) {
            return Float.isNaN(x) ? zeroCode : x > 0 ? 255 : 0;
        }
        return codeOfNormalized(buckets(keepSign), midpointFloors(keepSign, keepPositive), x);
    }

    /** The bucket table of a search (with the sign fix or without). */
    byte[] buckets(boolean keepSign) {
        return keepSign ? bucketFloorKeepingSign : bucketFloor;
    }

    /** The decision midpoints of a search with these directed roundings. */
    float[] midpointFloors(boolean keepSign, boolean keepPositive) {
        if (keepSign) {
            return keepPositive ? midpointFloorsKeepingSignAndPositive : midpointFloorsKeepingSign;
        }
        return keepPositive ? midpointFloorsKeepingPositive : midpointFloors;
    }

    /**
     * The search over one pair of tables, for a finite {@code |x| < 2} (a block's values once divided
     * by their absmax): the hot path of every 8-bit store, a dozen instructions and no branch. The
     * bucket gives the code below, one comparison with the next midpoint the rest. {@code code + (x > midpoint ? 1 : 0)}
     * without a branch: the outcome is a coin toss per element, and a mispredicted branch costs more
     * than the rest of the search. The float difference has the exact sign of the comparison.
     */
    int codeOfNormalized(byte[] buckets, float[] floors, float x) {
        int code = buckets[Float.floatToRawIntBits(x) >>> (23 - mantissaBits)] & 0xFF;
        return code + (Float.floatToRawIntBits(floors[code] - x) >>> 31);
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

    /** Whether {@link #nearestCodeKeepingSign} applies: the map holds +0 with negative entries below it. */
    public boolean canKeepSign() {
        return zeroCode > 0 && Float.floatToRawIntBits(values[zeroCode]) == 0;
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

    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name;
    }
}
