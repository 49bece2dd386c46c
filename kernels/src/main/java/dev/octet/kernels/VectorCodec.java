package dev.octet.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD codec: the JDK Vector API ({@code jdk.incubator.vector}) for the loops of an 8-bit step that
 * the JIT cannot vectorize by itself: the nearest-code search, the block's absmax and Adam's floor on
 * decoded second moments. Only
 * {@link CpuCodec} refers to this class, and only when the JVM was started with
 * {@code --add-modules jdk.incubator.vector}: without the module it is never loaded.
 *
 * <p>The search is {@link NearestCodeLattice}'s arithmetic (compares, one fused multiply-add and
 * register permutes, no table indexed per element: gathers cost about a cycle per element on this
 * project's AMD processor, as much as the scalar search). Elements the lattice flags (near a decision
 * midpoint: one vector in about 4,000 in an Adam step) are searched again with the scalar table search, so every code equals the scalar codec's.
 */
final class VectorCodec {

    // The processor's widest vectors; -Doctet.cpu.vectorBits=256 takes 8 lanes on a wider one (the build
    // tests the AVX2 shape that way).
    private static final VectorSpecies<Float> F = Integer.getInteger("octet.cpu.vectorBits", 0) == 256
            ? FloatVector.SPECIES_256 : FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.length() == 8 ? IntVector.SPECIES_256 : IntVector.SPECIES_PREFERRED;
    private static final int LANES = F.length();
    /** Codes of one float vector, as bytes (8 or 16 lanes: 64 or 128 bits). */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, LANES * 8)));
    /** Region tables hold 8 regions, so a vector must have 8 lanes at least (AVX2 or AVX-512). */
    static final boolean USABLE = LANES >= NearestCodeLattice.REGIONS && B.length() == LANES && I.length() == LANES;

    private static final float ROUNDING = 0x1.8p23f;
    private static final int ROUNDING_BITS = Float.floatToRawIntBits(ROUNDING);
    private static final int LOW_BITS = Float.floatToRawIntBits(NearestCodeLattice.LOW);

    private VectorCodec() {
    }

    static String describe() {
        return F.vectorBitSize() + "-bit vectors";
    }

    /**
     * {@link BlockCodec}'s loop for a finite, normal absmax: {@code codes[i]} = nearest code of
     * {@code values[i] * reciprocal}, exactly as {@link QuantizationMap#codeOfNormalized}.
     */
    static void encodeNormalized(float[] values, int n, float reciprocal, byte[] codes, QuantizationMap map,
            NearestCodeLattice lattice, byte[] buckets, float[] floors) {
        if (LANES >= NearestCodeLattice.BUCKETS) {
            encodeByExponent(values, n, reciprocal, codes, map, lattice, buckets, floors);
        } else {
            encodeByThresholds(values, n, reciprocal, codes, map, lattice, buckets, floors);
        }
    }

    /**
     * The search with 16 lanes or more: the region from the exponent ({@link NearestCodeLattice}'s
     * buckets), every table one register. About 30% faster than {@link #encodeByThresholds} there
     * (docs/kernels.md); with 8 lanes a 16-entry table takes two permutes and a blend per look-up, which
     * made it slower than the thresholds' compares, so 8 lanes keep those.
     */
    private static void encodeByExponent(float[] values, int n, float reciprocal, byte[] codes, QuantizationMap map,
            NearestCodeLattice lattice, byte[] buckets, float[] floors) {
        FloatVector recip = FloatVector.broadcast(F, reciprocal);
        IntVector bucketBelow = IntVector.fromArray(I, lattice.bucketBelow, 0);
        IntVector bucketThreshold = IntVector.fromArray(I, lattice.bucketThreshold, 0);
        IntVector bucketNegativeThreshold = IntVector.fromArray(I, lattice.bucketNegativeThreshold, 0);
        boolean sameThresholds = java.util.Arrays.equals(lattice.bucketThreshold, lattice.bucketNegativeThreshold);
        IntVector base = IntVector.fromArray(I, lattice.base, 0);
        IntVector slopeBits = IntVector.fromArray(I, lattice.slopeBits, 0);
        IntVector offsetBits = IntVector.fromArray(I, lattice.offsetBits, 0);
        IntVector lastOffset = IntVector.fromArray(I, lattice.lastOffset, 0);
        int firstBucket = lattice.firstBucket;
        int twoZero = 2 * lattice.zeroCode;
        int negativeMax = lattice.negativeMax;
        boolean signed = lattice.zeroCode > 0;
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) {
            IntVector xBits = FloatVector.fromArray(F, values, i).mul(recip).reinterpretAsInts();
            VectorMask<Integer> negativeLanes = xBits.lt(0);
            IntVector yBits = xBits.and(0x7FFFFFFF);
            // (Look-ups are written out as selectFrom: a helper method of a few lines stops being inlined
            // once it is compiled on its own, and an API call that is not inlined allocates its vectors.)
            IntVector bucket = yBits.lanewise(VectorOperators.LSHR, 24).sub(firstBucket).max(0).min(NearestCodeLattice.BUCKETS - 1);
            IntVector threshold = bucket.selectFrom(bucketThreshold);
            if (!sameThresholds) {
                threshold = threshold.blend(bucket.selectFrom(bucketNegativeThreshold), negativeLanes);
            }
            // + 1 where y > threshold: the sign bit of threshold - y (both in [0, 2^31): no overflow).
            IntVector region = bucket.selectFrom(bucketBelow).add(threshold.sub(yBits).lanewise(VectorOperators.LSHR, 31));
            FloatVector u = yBits.reinterpretAsFloats().fma(region.selectFrom(slopeBits).reinterpretAsFloats(),
                    region.selectFrom(offsetBits).reinterpretAsFloats());
            // u = max(u, LOW) as ints: a negative u's bits are negative ints, and for u >= 0 the int order is
            // the float order. (The top code's region has u = LOW: offset 0, never flagged.)
            u = u.reinterpretAsInts().max(LOW_BITS).reinterpretAsFloats();
            // floor(u) and the flag, as in encodeByThresholds.
            FloatVector rounded = u.sub(0.5f).add(ROUNDING);
            IntVector t = rounded.reinterpretAsInts().sub(ROUNDING_BITS);
            FloatVector fraction = u.sub(rounded.sub(ROUNDING));
            VectorMask<Float> flag = fraction.sub(0.5f + NearestCodeLattice.DELTA).abs()
                    .compare(VectorOperators.GE, 0.5f - NearestCodeLattice.DELTA);
            IntVector code = region.selectFrom(base).add(t.min(region.selectFrom(lastOffset)));
            code = signed
                    ? code.blend(IntVector.broadcast(I, twoZero).sub(code).max(0).min(negativeMax), negativeLanes)
                    : code.blend(0, negativeLanes);
            ((ByteVector) code.convertShape(VectorOperators.I2B, B, 0)).intoArray(codes, i);
            if (flag.anyTrue()) {
                BlockCodec.tableSearch(values, i, i + LANES, reciprocal, codes, map, buckets, floors);
            }
        }
        BlockCodec.tableSearch(values, i, n, reciprocal, codes, map, buckets, floors);
    }

    /** The search with 8 lanes: the region as the count of thresholds below y, one compare each. */
    private static void encodeByThresholds(float[] values, int n, float reciprocal, byte[] codes, QuantizationMap map,
            NearestCodeLattice lattice, byte[] buckets, float[] floors) {
        FloatVector recip = FloatVector.broadcast(F, reciprocal);
        IntVector base = IntVector.fromArray(I, lattice.base, 0);
        IntVector slopeBits = FloatVector.fromArray(F, lattice.slope, 0).reinterpretAsInts();
        IntVector offsetBits = FloatVector.fromArray(F, lattice.offset, 0).reinterpretAsInts();
        IntVector lastOffset = IntVector.fromArray(I, lattice.lastOffset, 0);
        int[] positive = lattice.positiveThresholdBits;
        int[] negative = lattice.negativeThresholdBits;
        int topThreshold = Float.floatToRawIntBits(lattice.topThreshold);
        int negativeTopThreshold = Float.floatToRawIntBits(lattice.negativeTopThreshold);
        boolean[] same = lattice.sameThreshold;
        int twoZero = 2 * lattice.zeroCode;
        int negativeMax = lattice.negativeMax;
        boolean signed = lattice.zeroCode > 0;
        IntVector zero = IntVector.zero(I);
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) {
            FloatVector x = FloatVector.fromArray(F, values, i).mul(recip);
            // Magnitudes are compared as their bits as ints (the same order for floats >= +0): JDK 17
            // compiles the cast of a float mask to int lanes, and a masked add, to slow Java code, so the
            // region count below is arithmetic and the masks are made on int lanes. The sign bit makes
            // -0.0 negative (keepSign moves it below the zero code).
            IntVector xBits = x.reinterpretAsInts();
            VectorMask<Integer> negativeLanes = xBits.lt(0);
            IntVector yBits = xBits.and(0x7FFFFFFF);
            FloatVector y = yBits.reinterpretAsFloats();
            IntVector region = zero;
            for (int k = 0; k < NearestCodeLattice.REGIONS - 1; k++) {
                IntVector threshold = IntVector.broadcast(I, positive[k]);
                if (!same[k]) {
                    threshold = threshold.blend(negative[k], negativeLanes);
                }
                // + 1 where y > threshold: the sign bit of threshold - y (both in [0, 2^31): no overflow).
                region = region.add(threshold.sub(yBits).lanewise(VectorOperators.LSHR, 31));
            }
            IntVector top = IntVector.broadcast(I, topThreshold);
            if (signed) {
                top = top.blend(negativeTopThreshold, negativeLanes);
            }
            VectorMask<Integer> topLanes = yBits.compare(VectorOperators.GT, top);
            // The region's parameters: a register permute each (tables rearranged as ints: JDK 17 does
            // not compile a shuffle's cast to float lanes).
            VectorShuffle<Integer> byRegion = region.toShuffle();
            FloatVector u = y.fma(slopeBits.rearrange(byRegion).reinterpretAsFloats(),
                    offsetBits.rearrange(byRegion).reinterpretAsFloats());
            // Below LOW, and on the top code (whose u means nothing), u = LOW: offset 0, never flagged.
            u = u.blend(NearestCodeLattice.LOW, u.compare(VectorOperators.LT, NearestCodeLattice.LOW));
            u = u.reinterpretAsInts().blend(LOW_BITS, topLanes).reinterpretAsFloats();
            // floor(u) without a float-to-int conversion (JDK 17 has none for 512-bit vectors): u - 1/2
            // is exact here (u >= 1/2), and adding 1.5 * 2^23 rounds it to the nearest integer into the low
            // mantissa bits. That is floor(u) except at an integer u, where a tie may round down; then the
            // fraction below is 1 instead of 0. Flagged: a fraction outside [2 delta, 1) (so both cases),
            // as one comparison of its distance from the middle of that range (which also flags the
            // range's lower end itself: harmless, one more element for the exact search).
            FloatVector rounded = u.sub(0.5f).add(ROUNDING);
            IntVector t = rounded.reinterpretAsInts().sub(ROUNDING_BITS);
            FloatVector fraction = u.sub(rounded.sub(ROUNDING));
            VectorMask<Float> flag = fraction.sub(0.5f + NearestCodeLattice.DELTA).abs()
                    .compare(VectorOperators.GE, 0.5f - NearestCodeLattice.DELTA);
            IntVector code = base.rearrange(byRegion).add(t.min(lastOffset.rearrange(byRegion)));
            code = code.blend(255, topLanes);
            // Negative lanes mirror around the zero code (all 0 on the unsigned map).
            code = code.blend(IntVector.broadcast(I, twoZero).sub(code).max(0).min(negativeMax), negativeLanes);
            ((ByteVector) code.convertShape(VectorOperators.I2B, B, 0)).intoArray(codes, i);
            if (flag.anyTrue()) {
                // Rare (one vector in thousands): the whole vector again with the table search. (Asking which
                // lanes are flagged, laneIsSet with a variable lane, is not compiled to SIMD code by JDK 17.)
                BlockCodec.tableSearch(values, i, i + LANES, reciprocal, codes, map, buckets, floors);
            }
        }
        BlockCodec.tableSearch(values, i, n, reciprocal, codes, map, buckets, floors);
    }

    /**
     * {@link StatisticFloor}'s square form: {@code second[i] = !(second[i] >= (first[i] k)^2) ? bound :
     * second[i]}, the same float products in the same order (a NaN on either side gives the bound, as
     * there). The JIT does not vectorize the scalar loop's conditional.
     */
    static void raiseToSquareFloor(float[] first, float[] second, float k, int n) {
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) {
            FloatVector r = FloatVector.fromArray(F, first, i).mul(k);
            FloatVector floor = r.mul(r);
            FloatVector s = FloatVector.fromArray(F, second, i);
            floor.blend(s, s.compare(VectorOperators.GE, floor)).intoArray(second, i);
        }
        for (; i < n; i++) {
            float r = first[i] * k;
            float floor = r * r;
            second[i] = !(second[i] >= floor) ? floor : second[i];
        }
    }

    /**
     * {@link BlockCodec#largestMagnitude}: the same float (any NaN if a value is NaN), as an int max over
     * the magnitudes' bits: for non-negative floats the int order is the float order, and every NaN's
     * magnitude bits lie above infinity's. One instruction per vector, where a float max that keeps
     * NaNs takes several.
     */
    static float largestMagnitude(float[] values, int n) {
        IntVector largest = IntVector.zero(I);
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) {
            largest = largest.max(FloatVector.fromArray(F, values, i).reinterpretAsInts().and(0x7FFFFFFF));
        }
        int bits = largest.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            bits = Math.max(bits, Float.floatToRawIntBits(values[i]) & 0x7FFFFFFF);
        }
        return Float.intBitsToFloat(bits);
    }
}
