package dev.octet.kernels;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.Vector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD codec: the JDK Vector API ({@code jdk.incubator.vector}) for the loops of an 8-bit step that
 * the JIT cannot vectorize by itself: the nearest-code search, the block's absmax, Adam's floor on
 * decoded second moments and, where the processor and JDK allow, the decode. Only
 * {@link CpuCodec} refers to this class, and only when the JVM was started with
 * {@code --add-modules jdk.incubator.vector}: without the module it is never loaded.
 *
 * <p>The search is {@link NearestCodeLattice}'s arithmetic (compares, one fused multiply-add and
 * register permutes, no table indexed per element: gathers cost about a cycle per element on this
 * project's AMD processor, as much as the scalar search). Elements the lattice flags (near a decision
 * midpoint: one 16-lane vector in about 1,000 of Gaussian values) are searched again with the scalar table search, so every
 * code equals the scalar codec's.
 *
 * <p>Decoding (a 256-entry table look-up per element) has a SIMD form only where byte permutes across two
 * 512-bit registers exist: {@link #DECODES}.
 */
final class VectorCodec {

    // The processor's widest vectors; -Doctet.cpu.vectorBits=256 takes 8 lanes on a wider one (the build
    // tests the AVX2 shape that way).
    private static final VectorSpecies<Float> F = Integer.getInteger("octet.cpu.vectorBits", 0) == 256
            ? FloatVector.SPECIES_256 : FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = F.length() == 8 ? IntVector.SPECIES_256 : IntVector.SPECIES_PREFERRED;
    private static final int LANES = F.length();
    /** The vectors one search call covers: a bit each in the {@code long} it returns. */
    private static final int VECTORS_PER_FLAG_WORD = Long.SIZE;
    /** Codes of one float vector, as bytes (8 or 16 lanes: 64 or 128 bits). */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, LANES * 8)));
    /** Region tables hold 8 regions, so a vector must have 8 lanes at least (AVX2 or AVX-512). */
    static final boolean USABLE = LANES >= NearestCodeLattice.REGIONS && B.length() == LANES && I.length() == LANES;

    private static final float ROUNDING = 0x1.8p23f;
    private static final int ROUNDING_BITS = Float.floatToRawIntBits(ROUNDING);
    private static final int LOW_BITS = Float.floatToRawIntBits(NearestCodeLattice.LOW);

    /**
     * {@code ByteVector.selectFrom(Vector, Vector)}: a look-up into two registers at once (AVX-512 VBMI's
     * {@code vpermi2b}), in the API since JDK 24. This class is compiled against JDK 17's API, so it is
     * found by name; null before JDK 24. A constant method handle is inlined like a direct call.
     */
    private static final MethodHandle SELECT_FROM_TWO = selectFromTwo();

    /**
     * Whether {@link #decode} runs: JDK 24 or later, 512-bit vectors and byte permutes in hardware (AVX-512
     * VBMI, read from Linux's /proc/cpuinfo: without it the JIT would not compile the look-up to one
     * instruction). Elsewhere the scalar table loop decodes.
     */
    static final boolean DECODES = LANES == 16 && SELECT_FROM_TWO != null && processorHas("avx512vbmi");

    private static final VectorSpecies<Byte> B512 = ByteVector.SPECIES_512;
    /** The two dynamic maps' decode tables, as byte planes. */
    private static final ByteVector[] SIGNED_PLANES = DECODES ? bytePlanes(QuantizationMap.dynamicSigned().valuesUnsafe()) : null;
    private static final ByteVector[] UNSIGNED_PLANES = DECODES ? bytePlanes(QuantizationMap.dynamicUnsigned().valuesUnsafe()) : null;
    /** Permute indices that interleave the byte planes back into floats (see {@link #decode}). */
    private static final ByteVector BYTE_PAIRS_OF_FIRST_32 = DECODES ? interleave(1, 0) : null;
    private static final ByteVector BYTE_PAIRS_OF_LAST_32 = DECODES ? interleave(1, 32) : null;
    private static final ByteVector FLOATS_OF_FIRST_16 = DECODES ? interleave(2, 0) : null;
    private static final ByteVector FLOATS_OF_LAST_16 = DECODES ? interleave(2, 32) : null;

    private VectorCodec() {
    }

    static String describe() {
        return F.vectorBitSize() + "-bit vectors" + (DECODES ? ", byte-permute decode" : "");
    }

    /**
     * {@link BlockCodec}'s loop for a finite, normal absmax: {@code codes[i]} = nearest code of
     * {@code values[i] * reciprocal}, exactly as {@link QuantizationMap#codeOfNormalized}.
     *
     * <p>The vector loops only note which vectors they flagged, a bit each in a {@code long}; the scalar
     * search of those vectors runs after the loop. With the call inside the loop (taken for one vector in
     * thousands, too big to inline), JDK 17's C2 reloaded the loop's tables from the stack for every
     * vector, and DJL's 16M Adam step on JDK 25 took 1.5-2.4x as long (docs/kernels.md).
     */
    static void encodeNormalized(float[] values, int n, float reciprocal, byte[] codes, QuantizationMap map,
            NearestCodeLattice lattice, byte[] buckets, float[] floors) {
        int bound = F.loopBound(n);
        for (int from = 0; from < bound; from += VECTORS_PER_FLAG_WORD * LANES) {
            int to = Math.min(bound, from + VECTORS_PER_FLAG_WORD * LANES);
            long flagged = LANES >= NearestCodeLattice.BUCKETS
                    ? encodeByExponent(values, from, to, reciprocal, codes, lattice)
                    : encodeByThresholds(values, from, to, reciprocal, codes, lattice);
            for (; flagged != 0; flagged &= flagged - 1) {
                int i = from + Long.numberOfTrailingZeros(flagged) * LANES;
                BlockCodec.tableSearch(values, i, i + LANES, reciprocal, codes, map, buckets, floors);
            }
        }
        BlockCodec.tableSearch(values, bound, n, reciprocal, codes, map, buckets, floors);
    }

    /**
     * The search with 16 lanes or more, for the vectors of {@code values[from..to)} ({@code to - from} a
     * multiple of the lanes, at most 64 vectors); returns the flagged vectors, bit k for the k-th. The
     * region comes from the exponent ({@link NearestCodeLattice}'s buckets), every table one register.
     * About 30% faster than {@link #encodeByThresholds} there (docs/kernels.md); with 8 lanes a 16-entry
     * table takes two permutes and a blend per look-up, which made it slower than the thresholds'
     * compares, so 8 lanes keep those.
     */
    private static long encodeByExponent(float[] values, int from, int to, float reciprocal, byte[] codes,
            NearestCodeLattice lattice) {
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
        long flagged = 0;
        long bit = 1;
        for (int i = from; i < to; i += LANES, bit <<= 1) {
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
                flagged |= bit;
            }
        }
        return flagged;
    }

    /**
     * The search with 8 lanes, as {@link #encodeByExponent}: the region as the count of thresholds below
     * y, one compare each.
     */
    private static long encodeByThresholds(float[] values, int from, int to, float reciprocal, byte[] codes,
            NearestCodeLattice lattice) {
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
        long flagged = 0;
        long bit = 1;
        for (int i = from; i < to; i += LANES, bit <<= 1) {
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
                // Rare (one vector in thousands): the whole vector is searched again. (Asking which lanes
                // are flagged, laneIsSet with a variable lane, is not compiled to SIMD code by JDK 17.)
                flagged |= bit;
            }
        }
        return flagged;
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

    /**
     * {@link BlockCodec#decode} of a dynamic map: {@code values[i] = table[codes[i]] * absmax}, the same
     * product, 64 codes at a time. A float's four bytes are looked up separately: byte k of all 256 table
     * values is a 256-byte plane, four 64-byte registers, and one two-register permute looks up 128 of them,
     * so each plane takes two permutes and a blend on the code's top bit. Six more permutes interleave the four
     * planes' bytes back into floats (bytes of planes 0 and 1 into pairs, planes 2 and 3 likewise, then the
     * pairs into floats). 0.10-0.17 ns per element against the scalar loop's 0.35-0.65 on JDK 25 (docs/kernels.md).
     */
    static void decode(byte[] codes, int n, float absmax, boolean signed, float[] values) {
        ByteVector[] t = signed ? SIGNED_PLANES : UNSIGNED_PLANES;
        // tPQ: plane P (byte P of the values), quarter Q (codes 64Q to 64Q + 63), kept in registers.
        ByteVector t00 = t[0], t01 = t[1], t02 = t[2], t03 = t[3], t10 = t[4], t11 = t[5], t12 = t[6], t13 = t[7];
        ByteVector t20 = t[8], t21 = t[9], t22 = t[10], t23 = t[11], t30 = t[12], t31 = t[13], t32 = t[14], t33 = t[15];
        ByteVector pairsFirst = BYTE_PAIRS_OF_FIRST_32, pairsLast = BYTE_PAIRS_OF_LAST_32;
        ByteVector floatsFirst = FLOATS_OF_FIRST_16, floatsLast = FLOATS_OF_LAST_16;
        MethodHandle select = SELECT_FROM_TWO;
        int i = 0;
        try {
            // invokeExact written out each time: a helper method around it could stop being inlined (see
            // encodeByExponent), and then every vector it returned would be allocated.
            for (; i + 64 <= n; i += 64) {
                ByteVector c = ByteVector.fromArray(B512, codes, i);
                // The permute takes an index's low 7 bits; the top bit picks the table's upper half.
                VectorMask<Byte> upper = c.lt((byte) 0);
                ByteVector p0 = ((ByteVector) select.invokeExact(c, (Vector<Byte>) t00, (Vector<Byte>) t01))
                        .blend((ByteVector) select.invokeExact(c, (Vector<Byte>) t02, (Vector<Byte>) t03), upper);
                ByteVector p1 = ((ByteVector) select.invokeExact(c, (Vector<Byte>) t10, (Vector<Byte>) t11))
                        .blend((ByteVector) select.invokeExact(c, (Vector<Byte>) t12, (Vector<Byte>) t13), upper);
                ByteVector p2 = ((ByteVector) select.invokeExact(c, (Vector<Byte>) t20, (Vector<Byte>) t21))
                        .blend((ByteVector) select.invokeExact(c, (Vector<Byte>) t22, (Vector<Byte>) t23), upper);
                ByteVector p3 = ((ByteVector) select.invokeExact(c, (Vector<Byte>) t30, (Vector<Byte>) t31))
                        .blend((ByteVector) select.invokeExact(c, (Vector<Byte>) t32, (Vector<Byte>) t33), upper);
                // Bytes 0-1 of elements 0-31 and of 32-63, bytes 2-3 likewise; then whole floats, 16 at a time.
                ByteVector low0 = (ByteVector) select.invokeExact(pairsFirst, (Vector<Byte>) p0, (Vector<Byte>) p1);
                ByteVector low1 = (ByteVector) select.invokeExact(pairsLast, (Vector<Byte>) p0, (Vector<Byte>) p1);
                ByteVector high0 = (ByteVector) select.invokeExact(pairsFirst, (Vector<Byte>) p2, (Vector<Byte>) p3);
                ByteVector high1 = (ByteVector) select.invokeExact(pairsLast, (Vector<Byte>) p2, (Vector<Byte>) p3);
                ((ByteVector) select.invokeExact(floatsFirst, (Vector<Byte>) low0, (Vector<Byte>) high0)).reinterpretAsFloats()
                        .mul(absmax).intoArray(values, i);
                ((ByteVector) select.invokeExact(floatsLast, (Vector<Byte>) low0, (Vector<Byte>) high0)).reinterpretAsFloats()
                        .mul(absmax).intoArray(values, i + 16);
                ((ByteVector) select.invokeExact(floatsFirst, (Vector<Byte>) low1, (Vector<Byte>) high1)).reinterpretAsFloats()
                        .mul(absmax).intoArray(values, i + 32);
                ((ByteVector) select.invokeExact(floatsLast, (Vector<Byte>) low1, (Vector<Byte>) high1)).reinterpretAsFloats()
                        .mul(absmax).intoArray(values, i + 48);
            }
        } catch (Throwable e) {
            throw new AssertionError("ByteVector.selectFrom(Vector, Vector) failed", e);
        }
        float[] table = (signed ? QuantizationMap.dynamicSigned() : QuantizationMap.dynamicUnsigned()).valuesUnsafe();
        for (; i < n; i++) {
            values[i] = table[codes[i] & 0xFF] * absmax;
        }
    }

    /** Byte k of every table value (plane k), as the plane's four 64-byte quarters: element 4k + q. */
    private static ByteVector[] bytePlanes(float[] table) {
        ByteVector[] planes = new ByteVector[16];
        byte[] plane = new byte[256];
        for (int k = 0; k < 4; k++) {
            for (int c = 0; c < 256; c++) {
                plane[c] = (byte) (Float.floatToRawIntBits(table[c]) >>> (8 * k));
            }
            for (int q = 0; q < 4; q++) {
                planes[4 * k + q] = ByteVector.fromArray(B512, plane, 64 * q);
            }
        }
        return planes;
    }

    /**
     * Indices for a two-register permute that interleaves units of {@code width} bytes of its two sources,
     * starting at byte {@code first} of each: a unit of the first source (indices 0-63), then the same unit of
     * the second (64-127), and so on. Width 1 makes (plane 0, plane 1) byte pairs, width 2 floats of such pairs.
     */
    private static ByteVector interleave(int width, int first) {
        byte[] index = new byte[64];
        for (int unit = 0; unit < 64 / (2 * width); unit++) {
            for (int b = 0; b < width; b++) {
                index[2 * width * unit + b] = (byte) (first + width * unit + b);
                index[2 * width * unit + width + b] = (byte) (64 + first + width * unit + b);
            }
        }
        return ByteVector.fromArray(B512, index, 0);
    }

    private static MethodHandle selectFromTwo() {
        try {
            return MethodHandles.publicLookup().findVirtual(ByteVector.class, "selectFrom",
                    MethodType.methodType(ByteVector.class, Vector.class, Vector.class));
        } catch (NoSuchMethodException | IllegalAccessException e) {
            return null;
        }
    }

    /** Whether Linux lists this flag among the processor's features (false where /proc/cpuinfo cannot be read). */
    static boolean processorHas(String flag) {
        try (var lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(line -> line.startsWith("flags")).findFirst()
                    .map(line -> (" " + line.substring(line.indexOf(':') + 1) + " ").contains(" " + flag + " ")).orElse(false);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
