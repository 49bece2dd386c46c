package dev.octet.kernels;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;

/**
 * A job's first blocks under the default {@code auto} codec, in its own JVM (for {@link CpuCodecTest}): 8-bit
 * statistics encoded and decoded block after block, as a step does, until the SIMD codec's warm-up has switched
 * them to it and they allocate nothing. Every block's codes are held to the scalar table search. Prints what
 * it saw, one {@code key=value} a line.
 */
public final class WarmUpProbe {

    private WarmUpProbe() {
    }

    public static void main(String[] args) {
        com.sun.management.ThreadMXBean allocation = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        System.out.println("description=" + CpuCodec.description());
        System.out.println("simdBeforeTheFirstBlock=" + CpuCodec.simdNow());
        QuantizationMap signed = QuantizationMap.dynamicSigned();
        SplittableRandom random = new SplittableRandom(11);
        int n = 256;
        float[] values = new float[n];
        float[] decoded = new float[n];
        byte[] codes = new byte[n];
        byte[] expected = new byte[n];
        long start = System.nanoTime();
        long switchedAt = -1;
        int quietBlocks = 0;
        int allocatingAfterTheSwitch = 0;
        int mismatches = 0;
        for (long block = 0; quietBlocks < 1000 && System.nanoTime() - start < 120_000_000_000L; block++) {
            for (int i = 0; i < n; i++) {
                values[i] = (float) (random.nextGaussian() * Math.exp(random.nextGaussian()));
            }
            boolean simd = CpuCodec.simdNow();
            if (simd && switchedAt < 0) {
                switchedAt = System.nanoTime();
                System.out.println("blocksBeforeTheSwitch=" + block);
            }
            long before = allocation.getCurrentThreadAllocatedBytes();
            float absmax = BlockCodec.encode(values, n, codes, signed, false, false);
            BlockCodec.decode(codes, n, absmax, signed, decoded);
            boolean quiet = allocation.getCurrentThreadAllocatedBytes() == before;
            quietBlocks = simd && quiet ? quietBlocks + 1 : 0;
            allocatingAfterTheSwitch += simd && !quiet ? 1 : 0;
            BlockCodec.tableSearch(values, 0, n, 1f / absmax, expected, signed, signed.buckets(false),
                    signed.midpointFloors(false, false));
            mismatches += java.util.Arrays.equals(codes, expected) ? 0 : 1;
        }
        System.out.println("switchedAfterMillis=" + (switchedAt < 0 ? -1 : (switchedAt - start) / 1_000_000));
        System.out.println("allocationFreeAfterTheSwitch=" + (quietBlocks >= 1000));
        System.out.println("blocksThatAllocatedAfterTheSwitch=" + allocatingAfterTheSwitch);
        System.out.println("blocksUnlikeTheScalarSearch=" + mismatches);
    }
}
