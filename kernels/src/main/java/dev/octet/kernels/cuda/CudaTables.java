package dev.octet.kernels.cuda;

import dev.octet.kernels.QuantizationMap;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The nearest-code search tables the CUDA kernels read, built from a map's public values (the layout of
 * {@code struct QTable} in {@code octet_kernels.cu}): the 256 values, the 256 decision midpoints (each
 * the largest float not above the exact average of two neighbouring entries, so {@code x > midpoint}
 * is exact and ties go to the lower code), and a bucket table indexed by the sign, the binade and the
 * first {@value #MANTISSA_BITS} mantissa bits of a normalized value, holding the number of midpoints
 * below the bucket. Binades below 2^-32 share the first bucket and values of 2 and more the last
 * (normalized values are at most about 1); the construction checks that every bucket, stretched so,
 * holds at most one midpoint, so one comparison settles the code.
 *
 * <p>With the sign fix (signed maps), negative buckets never start at the zero code and the midpoint
 * above the largest negative entry becomes +0: a negative value (or -0.0) never rounds to zero's code,
 * which is {@link QuantizationMap#nearestCodeKeepingSign}. For a statistic a rule divides by, the
 * midpoint above the zero entry becomes +0 too: a positive value never rounds to zero's code
 * ({@link QuantizationMap#nearestCode(float, boolean, boolean)}). {@link #nearestCode} runs the same search
 * in Java so that tests check the tables against the exact search without a GPU.
 */
public final class CudaTables {

    /** Must match OCTET_MB, OCTET_E0, OCTET_NB in octet_kernels.cu. */
    public static final int MANTISSA_BITS = 7;
    public static final int LOWEST_EXPONENT = 95;
    public static final int BINADES = 33;
    public static final int BUCKETS = 2 * BINADES << MANTISSA_BITS;
    /** Bytes of one table on the device. */
    public static final int BYTES = 4 * 256 + 4 * 256 + BUCKETS;

    private final float[] values;
    private final float[] midpointFloors;
    private final byte[] buckets;
    private final int zeroCode;

    private CudaTables(float[] values, float[] midpointFloors, byte[] buckets, int zeroCode) {
        this.values = values;
        this.midpointFloors = midpointFloors;
        this.buckets = buckets;
        this.zeroCode = zeroCode;
    }

    /**
     * The tables for a map, with or without the sign fix, and with or without keeping positive values
     * off the zero code.
     *
     * @throws IllegalArgumentException if some bucket would hold two midpoints (the map is too fine
     *     for {@value #MANTISSA_BITS} mantissa bits) or the sign fix is asked of a map that cannot keep signs
     */
    public static CudaTables of(QuantizationMap map, boolean keepSign, boolean keepPositive) {
        float[] values = map.values();
        double[] midpoints = new double[256];
        float[] floors = new float[256];
        for (int c = 0; c < 256; c++) {
            midpoints[c] = c < 255 ? ((double) values[c] + values[c + 1]) / 2.0 : Double.POSITIVE_INFINITY;
            float f = (float) midpoints[c];
            floors[c] = c == 255 ? Float.MAX_VALUE : f > midpoints[c] ? Math.nextDown(f) : f;
        }
        int zeroCode = map.zeroCode();
        if (keepSign && !map.canKeepSign()) {
            throw new IllegalArgumentException(map + " cannot keep signs");
        }
        byte[] buckets = new byte[BUCKETS];
        int perSign = BINADES << MANTISSA_BITS;
        for (int sign = 0; sign < 2; sign++) {
            for (int e = 0; e < BINADES; e++) {
                for (int m = 0; m < (1 << MANTISSA_BITS); m++) {
                    int shift = 23 - MANTISSA_BITS;
                    int lowBits = ((LOWEST_EXPONENT + e) << 23) | (m << shift);
                    double lowMagnitude = Float.intBitsToFloat(lowBits);
                    double highMagnitude = Float.intBitsToFloat(lowBits | ((1 << shift) - 1));
                    if (e == 0 && m == 0) {
                        lowMagnitude = 0.0;                    // smaller binades and zeros land here
                    }
                    if (e == BINADES - 1 && m == (1 << MANTISSA_BITS) - 1) {
                        highMagnitude = Float.MAX_VALUE;       // 2 and more land here
                    }
                    double low = sign == 1 ? -highMagnitude : lowMagnitude;
                    double high = sign == 1 ? -lowMagnitude : highMagnitude;
                    int floor = 0;
                    while (floor < 255 && midpoints[floor] < low) {
                        floor++;
                    }
                    if (floor + 1 < 255 && midpoints[floor + 1] < high) {
                        throw new IllegalArgumentException(map + ": a bucket of " + MANTISSA_BITS
                                + " mantissa bits holds two midpoints near " + low);
                    }
                    if (keepSign && sign == 1) {
                        floor = Math.min(floor, zeroCode - 1);
                    }
                    buckets[sign * perSign + (e << MANTISSA_BITS) + m] = (byte) floor;
                }
            }
        }
        if (keepSign) {
            floors[zeroCode - 1] = 0f;
        }
        if (keepPositive && zeroCode < 255) {
            floors[zeroCode] = 0f;
        }
        return new CudaTables(values, floors, buckets, zeroCode);
    }

    public int zeroCode() {
        return zeroCode;
    }

    /** The device layout, little-endian. */
    public byte[] bytes() {
        ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        for (float v : midpointFloors) {
            b.putFloat(v);
        }
        b.put(buckets);
        return b.array();
    }

    /** The kernels' search, in Java: the nearest code of a finite float (with the roundings built in). */
    public int nearestCode(float x) {
        int u = Float.floatToRawIntBits(x);
        int e = (u >>> 23) & 0xFF;
        int m = (u >>> (23 - MANTISSA_BITS)) & ((1 << MANTISSA_BITS) - 1);
        if (e < LOWEST_EXPONENT) {
            e = LOWEST_EXPONENT;
            m = 0;
        } else if (e > 127) {
            e = 127;
            m = (1 << MANTISSA_BITS) - 1;
        }
        int idx = (((u >>> 31) * BINADES + (e - LOWEST_EXPONENT)) << MANTISSA_BITS) | m;
        int code = buckets[idx] & 0xFF;
        return code + (x > midpointFloors[code] ? 1 : 0);
    }
}
