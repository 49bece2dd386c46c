package dev.octet.kernels;

/**
 * The nearest-code search of a dynamic tree map as arithmetic, for the SIMD codec ({@code VectorCodec}):
 * no table indexed per element, so it runs in vector registers, and it gives the same code as the
 * table search ({@link QuantizationMap#codeOfNormalized}) for every input it does not hand back.
 *
 * <p>Why it works: a dynamic map's positive entries come in decades ({@code 10^(i-7)..10^(i-6)}),
 * evenly spaced inside each. So a magnitude {@code y} first finds its <em>region</em> (the zero code,
 * one of the decades, or the top code 1.0) by comparing with the few decision midpoints that separate
 * regions, exactly (they are stored as the float just at or below each exact midpoint, as the table
 * search stores them); inside a decade, the entries sit near {@code lo + (j + 1/2) step}, so
 * {@code u = y / step - lo / step} (one fused multiply-add) lies near the integer {@code k} at
 * the midpoint between entries {@code k - 1} and {@code k}, and {@code floor(u)} is the code's offset
 * in its decade. The float rounding of the map's entries and of {@code u} is far below a code's width,
 * so {@code floor(u)} can only be wrong within a small distance of an integer: such an element is
 * flagged (the fraction of {@code u + delta} is below {@code 2 delta}) and the caller asks the exact
 * table search for it instead. The construction proves, for every interior midpoint of the map, that
 * the floats on either side of it get the right code or the flag; a map that fails this gets no lattice
 * (and the scalar codec). Few are flagged: 2 delta of uniformly spread values, about 6 in 100,000.
 * (Each flagged vector costs a call of the scalar search, about 100 ns: with the delta of 2^-11 used until
 * 2026-12-04, one 16-lane vector in 64 of Gaussian values was flagged, and searching them again cost about 0.1 ns per
 * element; 2^-15 flags one in 1,000. The proof below holds for both dynamic maps down to 2^-16 and fails at 2^-17.)
 *
 * <p>Negative values (signed map): the map is symmetric, so the code of {@code -y} mirrors the code of
 * {@code y} around the zero code, except that ties go to the lower code on both sides (toward zero for
 * positives, away from zero for negatives): a negative lane compares its magnitude with the float
 * just below the exact midpoint's float ceiling ({@link #negativeThresholds}), and ties inside a decade
 * are flagged anyway. Directed roundings: keepPositive lowers the first positive threshold to +0 (a
 * positive value never stays on the zero code); keepSign caps a negative lane's code below the zero code.
 * On the unsigned map every negative value (and -0.0) has code 0, its smallest entry being 0.
 *
 * <p><b>Regions from the exponent</b> (the 16-lane loop): counting the thresholds below {@code y} takes
 * a compare per threshold. Instead, {@code y}'s exponent picks one of 16 <em>buckets</em> of two binades
 * each; the thresholds sit more than three binades apart (one per decade), so a bucket holds at most one,
 * and the region is the bucket's count of thresholds below it plus one where {@code y} is above the
 * bucket's own threshold: two register permutes and a compare for any number of regions. The top code
 * is region 8 there (slope 0, its one code), so it needs no test of its own. The construction checks
 * that no bucket holds two thresholds; the result is the same count, for every float.
 *
 * <p>Only the two dynamic maps get a lattice; any other map uses the table search.
 */
final class NearestCodeLattice {

    /** Fraction of a code's width around each interior midpoint that is left to the exact search. */
    static final float DELTA = 0x1p-15f;
    static final float TWO_DELTA = 2 * DELTA;
    /** Regions: the zero code and up to 7 decades; the top code (1.0) is a separate test ({@link #topThreshold}). */
    static final int REGIONS = 8;
    /** The top code's region in the bucket search (the region tables' entry after the decades). */
    static final int TOP_REGION = REGIONS;
    /** Buckets of the exponent search, two binades each. */
    static final int BUCKETS = 16;

    final int zeroCode;
    /** Positive lanes: region += (y > positiveThresholds[k]) for k < REGIONS - 1. */
    final float[] positiveThresholds = new float[REGIONS - 1];
    /** Negative lanes: the same with the exact midpoint's ties going away from zero. */
    final float[] negativeThresholds = new float[REGIONS - 1];
    /** The thresholds' bits (all >= +0, so their int order is their float order). */
    final int[] positiveThresholdBits = new int[REGIONS - 1];
    final int[] negativeThresholdBits = new int[REGIONS - 1];
    /** Whether positiveThresholds[k] == negativeThresholds[k] (no per-lane choice needed). */
    final boolean[] sameThreshold = new boolean[REGIONS - 1];
    /** Above this (positive lanes) / negativeTopThreshold (negative lanes): the top code. */
    final float topThreshold;
    final float negativeTopThreshold;
    /**
     * The exponent search: {@code y}'s bucket is {@code clamp((bits(y) >>> 24) - firstBucket, 0, 15)};
     * its region is {@code bucketBelow[b] + (bits(y) > bucketThreshold[b])} ({@code bucketNegativeThreshold}
     * for negative lanes; a bucket without a threshold holds {@code Integer.MAX_VALUE}).
     */
    int firstBucket;
    final int[] bucketBelow = new int[BUCKETS];
    final int[] bucketThreshold = new int[BUCKETS];
    final int[] bucketNegativeThreshold = new int[BUCKETS];
    /** Per region, padded to 16 lanes (region 8: the top code, for the bucket search only): first code,
     * u's slope and offset, the last offset in the region. */
    final int[] base = new int[16];
    final float[] slope = new float[16];
    final float[] offset = new float[16];
    final int[] lastOffset = new int[16];
    /** slope and offset as bits. */
    final int[] slopeBits = new int[16];
    final int[] offsetBits = new int[16];
    /** The lowest u (u below it has the region's first code; the blend keeps it off integers). */
    static final float LOW = 0.5f + DELTA;
    /** Largest code a negative lane may get: the zero code, or the one below it with keepSign. */
    final int negativeMax;

    private NearestCodeLattice(int zeroCode, float topThreshold, float negativeTopThreshold, int negativeMax) {
        this.zeroCode = zeroCode;
        this.topThreshold = topThreshold;
        this.negativeTopThreshold = negativeTopThreshold;
        this.negativeMax = negativeMax;
    }

    /**
     * The lattice of a dynamic tree map with these directed roundings, or null if the map does not
     * have the shape (or the proof fails).
     *
     * @param counts entries per decade, smallest decade first
     * @param scales each decade's upper end (10^(i-6))
     */
    static NearestCodeLattice build(QuantizationMap map, double[] midpoints, int[] counts, float[] scales,
            boolean keepSign, boolean keepPositive) {
        int zc = map.zeroCode();
        if (counts.length != REGIONS - 1 || Float.floatToRawIntBits(map.value(zc)) != 0 || map.value(255) != 1f) {
            return null;
        }
        if (zc > 0) {
            // Symmetric: entry zc - 1 - j is minus entry zc + 1 + j.
            for (int j = 0; zc + 1 + j < 255; j++) {
                if (zc - 1 - j < 0 || map.value(zc - 1 - j) != -map.value(zc + 1 + j)) {
                    return null;
                }
            }
            if (zc != 127) {
                return null;
            }
        }
        // The first code of each region: zero, decades, top.
        int[] first = new int[REGIONS + 1];
        first[0] = zc;
        first[1] = zc + 1;
        for (int i = 0; i < counts.length; i++) {
            first[i + 2] = first[i + 1] + counts[i];
        }
        if (first[REGIONS] != 255) {
            return null;
        }
        NearestCodeLattice l = new NearestCodeLattice(zc, floorOf(midpoints[254]), belowCeilingOf(midpoints[254]),
                keepSign ? zc - 1 : zc);
        for (int k = 0; k < REGIONS - 1; k++) {
            double mid = midpoints[first[k + 1] - 1];
            l.positiveThresholds[k] = floorOf(mid);
            l.negativeThresholds[k] = belowCeilingOf(mid);
        }
        if (keepPositive) {
            l.positiveThresholds[0] = 0f;
        }
        if (zc == 0) {
            // Unsigned: a negative lane's code is 0 whatever its region, so one set of thresholds serves.
            System.arraycopy(l.positiveThresholds, 0, l.negativeThresholds, 0, REGIONS - 1);
        }
        for (int k = 0; k < REGIONS - 1; k++) {
            l.positiveThresholdBits[k] = Float.floatToRawIntBits(l.positiveThresholds[k]);
            l.negativeThresholdBits[k] = Float.floatToRawIntBits(l.negativeThresholds[k]);
            l.sameThreshold[k] = Float.floatToRawIntBits(l.positiveThresholds[k])
                    == Float.floatToRawIntBits(l.negativeThresholds[k]);
        }
        // Region 0 (the zero code) and unused lanes: u is LOW, its offset 0.
        for (int r = 0; r < 16; r++) {
            l.base[r] = r < REGIONS ? first[r] : zc;
            l.slope[r] = 0f;
            l.offset[r] = LOW;
            l.lastOffset[r] = 0;
        }
        for (int i = 0; i < counts.length; i++) {
            int r = i + 1;
            int count = counts[i];
            // Entries near scale * (0.1 + (j + 1/2) * 0.9 / count): u = y * count / (0.9 scale) - count / 9.
            double slope = count / (0.9 * scales[i]);
            l.slope[r] = (float) slope;
            l.offset[r] = (float) (-count / 9.0 + DELTA);
            l.lastOffset[r] = count - 1;
            for (int k = 1; k < count; k++) {
                double mid = midpoints[first[r] + k - 1];
                float below = floorOf(mid);
                float ceiling = Math.nextUp(belowCeilingOf(mid));
                // Values at or below the midpoint (of either sign's tie rule): offset < k, or flagged.
                // Values above it: offset >= k.
                if (!(l.u(r, below) < k + TWO_DELTA && l.u(r, Math.nextDown(ceiling)) < k + TWO_DELTA
                        && l.u(r, Math.nextUp(below)) >= k && l.u(r, ceiling) >= k)) {
                    return null;
                }
            }
        }
        l.base[TOP_REGION] = 255;
        for (int r = 0; r < 16; r++) {
            l.slopeBits[r] = Float.floatToRawIntBits(l.slope[r]);
            l.offsetBits[r] = Float.floatToRawIntBits(l.offset[r]);
        }
        return l.buildBuckets() ? l : null;
    }

    /**
     * The exponent search's tables: the thresholds (the top one last) sorted into buckets of two binades,
     * the first bucket just below the smallest positive threshold (bucket 0 also takes every smaller
     * magnitude, bucket 15 every larger one). False if a bucket would hold two thresholds of a sign, or
     * if the signs' counts below a bucket differ (one count table serves both).
     */
    private boolean buildBuckets() {
        int[] positive = new int[REGIONS];
        int[] negative = new int[REGIONS];
        System.arraycopy(positiveThresholdBits, 0, positive, 0, REGIONS - 1);
        System.arraycopy(negativeThresholdBits, 0, negative, 0, REGIONS - 1);
        positive[REGIONS - 1] = Float.floatToRawIntBits(topThreshold);
        negative[REGIONS - 1] = Float.floatToRawIntBits(zeroCode > 0 ? negativeTopThreshold : topThreshold);
        int smallest = Integer.MAX_VALUE;
        for (int t : positive) {
            if (t > 0) {
                smallest = Math.min(smallest, t);
            }
        }
        firstBucket = (smallest >>> 24) - 1;
        for (int b = 0; b < BUCKETS; b++) {
            long from = b == 0 ? 0 : (long) (firstBucket + b) << 24;
            long to = b == BUCKETS - 1 ? 1L << 31 : (long) (firstBucket + b + 1) << 24;
            int belowPositive = 0;
            int belowNegative = 0;
            int insidePositive = 0;
            int insideNegative = 0;
            bucketThreshold[b] = Integer.MAX_VALUE;
            bucketNegativeThreshold[b] = Integer.MAX_VALUE;
            for (int k = 0; k < REGIONS; k++) {
                if (positive[k] < from) {
                    belowPositive++;
                } else if (positive[k] < to) {
                    insidePositive++;
                    bucketThreshold[b] = positive[k];
                }
                if (negative[k] < from) {
                    belowNegative++;
                } else if (negative[k] < to) {
                    insideNegative++;
                    bucketNegativeThreshold[b] = negative[k];
                }
            }
            if (insidePositive > 1 || insideNegative > 1 || belowPositive != belowNegative) {
                return false;
            }
            bucketBelow[b] = belowPositive;
        }
        return true;
    }

    /** The region of magnitude bits {@code yBits} as the bucket search finds it (8: the top code). */
    int bucketRegion(int yBits, boolean negative) {
        int b = Math.max(0, Math.min(BUCKETS - 1, (yBits >>> 24) - firstBucket));
        return bucketBelow[b] + (yBits > (negative ? bucketNegativeThreshold : bucketThreshold)[b] ? 1 : 0);
    }

    /** The largest float not above {@code x}. */
    private static float floorOf(double x) {
        float f = (float) x;
        return f > x ? Math.nextDown(f) : f;
    }

    /** The float just below the smallest float not below {@code x} ({@code y > it} iff {@code y >= x}). */
    private static float belowCeilingOf(double x) {
        float f = (float) x;
        return Math.nextDown(f < x ? Math.nextUp(f) : f);
    }

    /** The lattice coordinate of a magnitude in region r, as the vector code computes it. */
    float u(int r, float y) {
        float u = Math.fma(y, slope[r], offset[r]);
        return u < LOW ? LOW : u;
    }

    /**
     * The code of a normalized finite {@code x} as the vector code computes it, or -1 where it flags
     * the element for the exact search. A scalar model of {@code VectorCodec}'s loop, for tests.
     */
    int codeOrFlag(float x) {
        boolean negative = Float.floatToRawIntBits(x) < 0;
        float y = Math.abs(x);
        float[] thresholds = negative ? negativeThresholds : positiveThresholds;
        int r = 0;
        for (int k = 0; k < REGIONS - 1; k++) {
            r += y > thresholds[k] ? 1 : 0;
        }
        // (On the unsigned map a negative lane's code is 0 whatever its region; the loops test it as positive.)
        boolean top = y > (negative && zeroCode > 0 ? negativeTopThreshold : topThreshold);
        // The 16-lane loop's search finds the same region, the top code as region 8.
        if (bucketRegion(Float.floatToRawIntBits(y), negative) != (top ? TOP_REGION : r)) {
            throw new AssertionError("the bucket search disagrees at " + y);
        }
        float u = u(r, y);
        int t = (int) u;
        boolean flag = u - t < TWO_DELTA;
        int p = base[r] + Math.min(t, lastOffset[r]);
        if (top) {
            p = 255;
            flag = false;
        }
        if (flag) {
            return -1;
        }
        return negative ? Math.max(0, Math.min(2 * zeroCode - p, negativeMax)) : p;
    }
}
