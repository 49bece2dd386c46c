package dev.octet.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The SIMD codec against the scalar one: the lattice search (as its scalar model, on every JVM) and
 * the vector loops themselves (in the build's second test run, with {@code --add-modules
 * jdk.incubator.vector}) give the same codes and absmax as the table search, bit for bit.
 */
class CpuCodecTest {

    /** Every map with every directed rounding it allows. */
    static Stream<Arguments> searches() {
        return searches(QuantizationMap.dynamicSigned(), QuantizationMap.dynamicUnsigned());
    }

    /** The dynamic maps' searches (their tables passed as constants) and the ablation's linear maps' (as they come). */
    static Stream<Arguments> searchesOfEveryMap() {
        return searches(QuantizationMap.dynamicSigned(), QuantizationMap.dynamicUnsigned(), QuantizationMap.linearSigned(),
                QuantizationMap.linearUnsigned());
    }

    private static Stream<Arguments> searches(QuantizationMap... maps) {
        List<Arguments> out = new ArrayList<>();
        for (QuantizationMap map : maps) {
            for (int v = 0; v < 4; v++) {
                boolean keepSign = (v & 1) != 0;
                boolean keepPositive = (v & 2) != 0;
                if (!keepSign || map.canKeepSign()) {
                    out.add(Arguments.of(map, keepSign, keepPositive));
                }
            }
        }
        return out.stream();
    }

    @Test
    void theBuildRunsTheCodecItAskedFor() {
        String expected = System.getProperty("octet.test.expectCodec");
        assumeTrue(expected != null && !expected.isEmpty(), "no codec asked for");
        assertEquals(expected.equals("vector"), CpuCodec.vector(), CpuCodec.description());
        assertTrue(CpuCodec.description().startsWith(expected), CpuCodec.description());
        String bits = System.getProperty("octet.cpu.vectorBits");
        if (expected.equals("vector") && bits != null) {
            assertTrue(CpuCodec.description().contains(bits + "-bit vectors"), CpuCodec.description());
        }
        // The byte-permute decode runs exactly where it can: 512-bit vectors, byte permutes in hardware, JDK 24 or
        // later (JDK 17's API has no two-register permute).
        if (expected.equals("vector")) {
            boolean decodes = CpuCodec.description().contains(", byte-permute decode)");
            assertEquals(decodes, VectorCodec.DECODES, CpuCodec.description());
            assertEquals(Runtime.version().feature() >= 24 && CpuCodec.description().contains("512-bit vectors")
                    && VectorCodec.processorHas("avx512vbmi"), decodes, CpuCodec.description());
        }
    }

    /**
     * The default codec in a JVM of its own, as a job runs it: its first blocks on the scalar codec, then, once
     * the warm-up has the SIMD loops compiled, on the SIMD codec without allocating; the same codes throughout.
     */
    @Test
    void aJobSwitchesToTheSimdCodecOnceItsWarmUpEnds() throws Exception {
        assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() && VectorCodec.USABLE,
                "the SIMD codec needs the Vector API module");
        // (The 256-bit test run hands its vector width on: the 8-lane search is warmed up too.)
        Process probe = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector",
                "-Doctet.cpu.vectorBits=" + Integer.getInteger("octet.cpu.vectorBits", 0),
                "-cp", System.getProperty("java.class.path"),
                WarmUpProbe.class.getName()).redirectErrorStream(true).start();
        String out = new String(probe.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, probe.waitFor(), out);
        assertTrue(out.contains("description=vector (jdk.incubator.vector, ") && out.contains(
                "), after a background warm-up (the scalar codec until then)"), out);
        assertTrue(out.contains("simdBeforeTheFirstBlock=false"), out);
        assertTrue(out.contains("allocationFreeAfterTheSwitch=true"), out);
        // Without the warm-up, the SIMD codec's first blocks allocate their vectors: hundreds of blocks.
        java.util.regex.Matcher allocating = java.util.regex.Pattern.compile("blocksThatAllocatedAfterTheSwitch=(\\d+)").matcher(out);
        assertTrue(allocating.find() && Integer.parseInt(allocating.group(1)) <= 10, out);
        assertTrue(out.contains("blocksUnlikeTheScalarSearch=0"), out);
        assertTrue(!out.contains("blocksBeforeTheSwitch=0" + System.lineSeparator()), out);
    }

    /** After the warm-up's rounds, a round of every SIMD loop allocates nothing: they are compiled. */
    @Test
    void theWarmUpEndsWithTheLoopsCompiled() {
        assumeTrue(CpuCodec.vector(), "the SIMD codec runs in the build's second test run");
        VectorWarmUp.run(0);
        com.sun.management.ThreadMXBean allocation = (com.sun.management.ThreadMXBean)
                java.lang.management.ManagementFactory.getThreadMXBean();
        QuantizationMap map = QuantizationMap.dynamicSigned();
        SplittableRandom random = new SplittableRandom(3);
        int n = 256;
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        byte[] codes = new byte[n];
        float[] decoded = new float[n];
        long before = allocation.getCurrentThreadAllocatedBytes();
        float absmax = VectorCodec.largestMagnitude(values, n);
        VectorCodec.encodeNormalized(values, n, 1f / absmax, codes, map, map.lattice(false, false), map.buckets(false),
                map.midpointFloors(false, false));
        if (VectorCodec.DECODES) {
            VectorCodec.decode(codes, n, absmax, true, decoded);
        }
        VectorCodec.raiseToSquareFloor(decoded, values, 0.5f, n);
        assertEquals(0, allocation.getCurrentThreadAllocatedBytes() - before);
    }

    @ParameterizedTest
    @MethodSource("searches")
    void bothDynamicMapsHaveALatticeForEveryRounding(QuantizationMap map, boolean keepSign, boolean keepPositive) {
        assertNotNull(map.lattice(keepSign, keepPositive));
    }

    @Test
    void otherMapsHaveNone() {
        assertNull(QuantizationMap.linearSigned().lattice(false, false));
        assertNull(QuantizationMap.linearUnsigned().lattice(false, false));
    }

    /** The lattice's answer where it gives one, for every 37th float of magnitude below 2, both signs. */
    @ParameterizedTest
    @MethodSource("searches")
    void latticeEqualsTableSearchOnStridedFloats(QuantizationMap map, boolean keepSign, boolean keepPositive) {
        NearestCodeLattice lattice = map.lattice(keepSign, keepPositive);
        byte[] buckets = map.buckets(keepSign);
        float[] floors = map.midpointFloors(keepSign, keepPositive);
        long flagged = 0;
        long total = 0;
        for (int bits = 0; bits < 0x40000000; bits += 37) {
            for (int sign = 0; sign < 2; sign++) {
                float x = Float.intBitsToFloat(bits | (sign << 31));
                int code = lattice.codeOrFlag(x);
                total++;
                if (code < 0) {
                    flagged++;
                } else if (code != map.codeOfNormalized(buckets, floors, x)) {
                    assertEquals(map.codeOfNormalized(buckets, floors, x), code, "at " + x + " (bits " + Integer.toHexString(Float.floatToRawIntBits(x)) + ")");
                }
            }
        }
        assertTrue(flagged < total / 1000, flagged + " of " + total + " flagged");
    }

    /** Around every decision midpoint: the 64 floats on either side, both signs. */
    @ParameterizedTest
    @MethodSource("searches")
    void latticeEqualsTableSearchAroundEveryMidpoint(QuantizationMap map, boolean keepSign, boolean keepPositive) {
        NearestCodeLattice lattice = map.lattice(keepSign, keepPositive);
        byte[] buckets = map.buckets(keepSign);
        float[] floors = map.midpointFloors(keepSign, keepPositive);
        for (int c = 0; c < 255; c++) {
            float mid = (float) (((double) map.value(c) + map.value(c + 1)) / 2);
            for (float start : new float[] {mid, -mid, 0f, -0f}) {
                float x = start;
                for (int k = 0; k < 64; k++) {
                    x = Math.nextDown(x);
                }
                for (int k = 0; k < 129; k++, x = Math.nextUp(x)) {
                    int code = lattice.codeOrFlag(x);
                    if (code >= 0) {
                        assertEquals(map.codeOfNormalized(buckets, floors, x), code, "at " + x);
                    }
                }
            }
        }
    }

    /** Blocks of values as an optimizer's statistics look, and awkward ones; every length up to a few vectors. */
    static float[][] blocks() {
        SplittableRandom random = new SplittableRandom(7);
        List<float[]> out = new ArrayList<>();
        for (int b = 0; b < 3000; b++) {
            int n = b < 200 ? b % 67 + 1 : 1 + random.nextInt(4096);
            float[] block = new float[n];
            int kind = b % 8;
            for (int i = 0; i < n; i++) {
                block[i] = switch (kind) {
                    case 0 -> (float) (random.nextDouble() * 2 - 1);
                    case 1 -> (float) (random.nextGaussian() * Math.exp(random.nextDouble() * 40 - 20));
                    case 2 -> (float) Math.abs(random.nextGaussian() * random.nextGaussian()); // squared-gradient-like
                    case 3 -> Float.intBitsToFloat(random.nextInt()); // any bit pattern (NaN, Inf, denormals)
                    case 4 -> Float.intBitsToFloat(random.nextInt() & 0x807FFFFF); // denormals and zeros
                    case 5 -> random.nextInt(4) == 0 ? 0f : random.nextInt(4) == 0 ? -0f : (float) random.nextGaussian();
                    case 6 -> (float) (1e-30 * random.nextGaussian()); // tiny absmax, normal reciprocal
                    default -> random.nextInt(64) == 0 ? Float.POSITIVE_INFINITY * (random.nextBoolean() ? 1 : -1)
                            : (float) random.nextGaussian();
                };
            }
            out.add(block);
        }
        // A block that holds every map entry and midpoint of both maps, scaled by 3 (absmax 3).
        float[] entries = new float[4 * 256];
        for (int c = 0; c < 256; c++) {
            entries[4 * c] = 3f * QuantizationMap.dynamicSigned().value(c);
            entries[4 * c + 1] = 3f * QuantizationMap.dynamicUnsigned().value(c);
            entries[4 * c + 2] = c < 255 ? 1.5f * (QuantizationMap.dynamicSigned().value(c) + QuantizationMap.dynamicSigned().value(c + 1)) : 3f;
            entries[4 * c + 3] = c < 255 ? 1.5f * (QuantizationMap.dynamicUnsigned().value(c) + QuantizationMap.dynamicUnsigned().value(c + 1)) : -3f;
        }
        out.add(entries);
        // The entries and midpoints again, spread over the longest block (7 is prime to 1,024), so that
        // vectors near a midpoint lie in every 64-vector word of the SIMD search's flags, and in its tail.
        float[] longest = new float[4096 - 3];
        for (int i = 0; i < longest.length; i++) {
            longest[i] = entries[(7 * i) % entries.length];
        }
        out.add(longest);
        return out.toArray(new float[0][]);
    }

    @Test
    void largestMagnitudeEqualsTheScalarMaximum() {
        for (float[] block : blocks()) {
            float expected = 0f;
            for (float v : block) {
                expected = Math.max(expected, Math.abs(v));
            }
            float got = BlockCodec.largestMagnitude(block, block.length);
            if (Float.isNaN(expected)) {
                assertTrue(Float.isNaN(got));
            } else {
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got));
            }
        }
    }

    @Test
    void theSquareFloorEqualsTheScalarRaise() {
        StatisticFloor floor = StatisticFloor.adam(0.9, 0.999, 7);
        assertEquals(StatisticFloor.Form.SQUARE, floor.form());
        float[][] all = blocks();
        for (int b = 0; b + 1 < all.length; b += 2) {
            int n = Math.min(all[b].length, all[b + 1].length);
            float[] first = all[b].clone();
            float[] second = all[b + 1].clone();
            float[] expected = new float[n];
            for (int i = 0; i < n; i++) {
                expected[i] = floor.raise(first[i], second[i]);
            }
            floor.apply(first, second, n);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(second[i]),
                        "element " + i + ": " + first[i] + ", " + all[b + 1][i]);
            }
        }
    }

    /** What {@link QuantizedState#ordinaryScales} relies on: octet's maps decode to numbers, never NaN or -0. */
    @Test
    void octetsMapsHoldNoNanAndNoNegativeZero() {
        for (QuantizationMap map : new QuantizationMap[] {QuantizationMap.dynamicSigned(), QuantizationMap.dynamicUnsigned(),
                QuantizationMap.linearSigned(), QuantizationMap.linearUnsigned()}) {
            for (int c = 0; c < 256; c++) {
                float v = map.value(c);
                assertTrue(!Float.isNaN(v) && Float.floatToRawIntBits(v) != Float.floatToRawIntBits(-0f), map + " code " + c + ": " + v);
            }
        }
    }

    @Test
    void onlyFiniteNonNegativeScalesAreOrdinary() {
        QuantizedState state = QuantizedState.allocate(512, 256, StatisticKind.SIGNED, StatisticKind.UNSIGNED);
        float[] ordinary = {0f, Float.MIN_VALUE, 1e-30f, 3f, Float.MAX_VALUE};
        float[] damaged = {Float.NaN, -0f, -1f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (float scale : ordinary) {
            state.absmax(1).put(1, scale);
            assertTrue(state.ordinaryScales(256), "scale " + scale);
        }
        for (float scale : damaged) {
            state.absmax(1).put(1, scale);
            assertTrue(!state.ordinaryScales(256) && state.ordinaryScales(0), "scale " + scale);
            state.absmax(1).put(1, 1f);
            state.absmax(0).put(1, scale);
            assertTrue(!state.ordinaryScales(256), "first statistic's scale " + scale);
            state.absmax(0).put(1, 1f);
        }
    }

    /** The floor's loop for ordinary numbers (Math.max) against the scalar raise, bit for bit, in all three forms. */
    @Test
    void theFloorOnOrdinaryNumbersIsTheScalarRaise() {
        for (StatisticFloor floor : new StatisticFloor[] {StatisticFloor.adam(0.9, 0.999, 7), StatisticFloor.adaMax(0.9, 0.999, 7),
                StatisticFloor.adaBelief(0.999, 1e-8, 7)}) {
            float[][] all = blocks();
            for (int b = 0; b + 1 < all.length; b += 2) {
                int n = Math.min(all[b].length, all[b + 1].length);
                float[] first = all[b].clone();
                float[] second = all[b + 1].clone();
                for (int i = 0; i < n; i++) {
                    // Ordinary numbers: no NaN (infinities stay), no -0 in the second statistic.
                    first[i] = Float.isNaN(first[i]) ? 0.5f : first[i];
                    second[i] = Float.isNaN(second[i]) ? 2f : second[i] == 0f ? 0f : second[i];
                }
                float[] before = second.clone();
                float[] expected = new float[n];
                for (int i = 0; i < n; i++) {
                    expected[i] = floor.raise(first[i], second[i]);
                }
                floor.apply(first, second, n, true);
                for (int i = 0; i < n; i++) {
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(second[i]),
                            floor.form() + ", element " + i + ": " + first[i] + ", " + before[i]);
                }
            }
        }
    }

    /**
     * BlockCodec.decode (the byte-permute decode where this JVM has it, see {@link VectorCodec#DECODES}) against
     * the table's value times the scale, bit for bit: every code in every lane, lengths around the 64-code
     * step, and awkward scales (zeros, denormal, huge, infinite, negative, NaN).
     */
    @Test
    void decodeEqualsTheTableValueTimesTheScale() {
        SplittableRandom random = new SplittableRandom(11);
        float[] scales = {1f, 3f, 0.37f, 0f, -0f, -2.5f, Float.MIN_VALUE, 1e-30f, Float.MAX_VALUE, Float.POSITIVE_INFINITY,
                Float.NaN, Float.intBitsToFloat(0x7FA00001)};
        float[] values = new float[4096 + 64];
        for (QuantizationMap map : new QuantizationMap[] {QuantizationMap.dynamicSigned(), QuantizationMap.dynamicUnsigned(),
                QuantizationMap.linearSigned(), QuantizationMap.linearUnsigned()}) {
            for (int b = 0; b < 400; b++) {
                int n = b < 200 ? b : b < 300 ? 64 * (b % 64) : random.nextInt(4097);
                byte[] codes = new byte[n];
                for (int i = 0; i < n; i++) {
                    // Every code in every lane position of the first blocks, random codes after.
                    codes[i] = (byte) (b < 256 ? i + b : random.nextInt(256));
                }
                float scale = b < scales.length ? scales[b] : (float) Math.exp(random.nextDouble() * 160 - 80);
                values[n] = 42f;
                BlockCodec.decode(codes, n, scale, map, values);
                for (int i = 0; i < n; i++) {
                    float expected = map.value(codes[i] & 0xFF) * scale;
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(values[i]),
                            map + ", element " + i + " of " + n + ", code " + (codes[i] & 0xFF) + ", scale " + scale);
                }
                assertEquals(42f, values[n], "wrote past n = " + n);
            }
        }
    }

    /** BlockCodec.encode (whichever codec this JVM runs) against the public scalar search, element by element. */
    @ParameterizedTest
    @MethodSource("searchesOfEveryMap")
    void encodeEqualsTheScalarSearch(QuantizationMap map, boolean keepSign, boolean keepPositive) {
        byte[] codes = new byte[4096];
        for (float[] block : blocks()) {
            int n = block.length;
            float absmax = BlockCodec.encode(block, n, codes, map, keepSign, keepPositive);
            float largestFinite = 0f;
            boolean nonFinite = false;
            for (float v : block) {
                if (Float.isFinite(v)) {
                    largestFinite = Math.max(largestFinite, Math.abs(v));
                } else {
                    nonFinite = true;
                }
            }
            float finiteMax = largestFinite;
            assertEquals(Float.floatToRawIntBits(finiteMax), Float.floatToRawIntBits(absmax));
            float reciprocal = 1f / finiteMax;
            for (int i = 0; i < n; i++) {
                float v = block[i];
                int expected;
                if (finiteMax == 0f) {
                    expected = Float.isInfinite(v) ? (v > 0 ? 255 : 0) : map.zeroCode();
                } else if (Float.isNaN(v)) {
                    expected = map.zeroCode();
                } else if (Float.isInfinite(v)) {
                    expected = v > 0 ? 255 : 0;
                } else if (nonFinite || reciprocal > Float.MAX_VALUE) {
                    expected = map.nearestCode(v / finiteMax, keepSign, keepPositive);
                } else {
                    expected = map.nearestCode(v * reciprocal, keepSign, keepPositive);
                }
                int index = i;
                assertEquals(expected, codes[i] & 0xFF, () -> "element " + index + " = " + v + " of " + n
                        + ", absmax " + finiteMax);
            }
        }
    }
}
