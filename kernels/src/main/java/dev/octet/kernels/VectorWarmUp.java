package dev.octet.kernels;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Compiles the SIMD codec's loops before a job's steps use them. Until the JIT's optimizing compiler has
 * compiled a Vector API loop, every vector it makes is a Java object: a JVM that ran an 8-bit step on the SIMD
 * codec from its first block allocated about 0.6-0.8 GB of such objects in a second or two, and G1 grew the
 * heap for that burst, which then stayed: the demo model's DL4J job peaked about 90-100 MiB higher than on the
 * scalar codec (JDK 25, docs/kernels.md). So by default the steps start on the scalar codec (the same codes, bit
 * for bit), and a daemon thread runs the SIMD loops on blocks of its own until rounds of them allocate nothing:
 * the loops are compiled. The steps switch to the SIMD codec then, 2-3 seconds after their first block on this
 * project's 2-core machine, and that job's peak stayed 45-60 MiB lower on JDK 25 and 110-120 MiB on JDK 17.
 */
final class VectorWarmUp {

    /**
     * Between rounds: a breath for the job's own threads on a small machine. (The job's heap stayed as small with
     * no pause as with 0.1 or 0.3 ms: what grew it was the job's own steps all running the uncompiled loops at once,
     * not this thread's pace.)
     */
    private static final long PAUSE_NANOS = 100_000;
    /** Rounds in a row that must allocate nothing. */
    private static final int QUIET_ROUNDS = 100;
    /** Where the thread's allocation cannot be read: rounds enough for the JIT's thresholds many times over. */
    private static final int ROUNDS_WITHOUT_COUNTER = 20_000;
    private static final int BLOCK = 256;

    private static final AtomicBoolean STARTED = new AtomicBoolean();

    private VectorWarmUp() {
    }

    /** Starts the warm-up thread once; {@code done} runs when the loops are compiled (or the warm-up failed). */
    static void start(Runnable done) {
        if (STARTED.get() || !STARTED.compareAndSet(false, true)) {
            return;
        }
        Thread thread = new Thread(() -> {
            try {
                run(PAUSE_NANOS);
            } catch (Throwable e) {
                // The loops run all the same; they are only compiled later, in the job's own steps.
            } finally {
                done.run();
            }
        }, "octet-simd-warm-up");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        try {
            thread.start();
        } catch (Throwable e) {
            done.run(); // no thread to spare: the SIMD codec from now on, compiled in the job's own steps
        }
    }

    /** Runs rounds of every SIMD loop the steps use until {@link #QUIET_ROUNDS} in a row allocate nothing. */
    static void run(long pauseNanos) {
        java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        com.sun.management.ThreadMXBean counter = threads instanceof com.sun.management.ThreadMXBean c
                && c.isThreadAllocatedMemorySupported() && c.isThreadAllocatedMemoryEnabled() ? c : null;
        Blocks blocks = new Blocks();
        int quiet = 0;
        for (int round = 0; counter != null ? quiet < QUIET_ROUNDS : round < ROUNDS_WITHOUT_COUNTER; round++) {
            long before = counter != null ? counter.getCurrentThreadAllocatedBytes() : 0;
            blocks.round(round);
            quiet = counter != null && counter.getCurrentThreadAllocatedBytes() == before ? quiet + 1 : 0;
            if (pauseNanos > 0) {
                LockSupport.parkNanos(pauseNanos);
            }
        }
    }

    /** A step's worth of blocks: a first statistic (signed map), a second (unsigned), their decode and floor. */
    private static final class Blocks {
        final QuantizationMap signed = QuantizationMap.dynamicSigned();
        final QuantizationMap unsigned = QuantizationMap.dynamicUnsigned();
        final float[][] first = new float[8][BLOCK];
        final float[][] second = new float[8][BLOCK];
        final float[] decoded = new float[BLOCK];
        final float[] decodedSecond = new float[BLOCK];
        final byte[] codes = new byte[BLOCK];
        final byte[] secondCodes = new byte[BLOCK];

        Blocks() {
            SplittableRandom random = new SplittableRandom(7);
            for (int b = 0; b < first.length; b++) {
                for (int i = 0; i < BLOCK; i++) {
                    double g = random.nextGaussian() * Math.exp(random.nextGaussian());
                    // Below 1 in magnitude, so that the block's absmax is the 1 set below.
                    first[b][i] = (float) Math.max(-0.5, Math.min(0.5, 0.1 * g));
                    second[b][i] = (float) Math.min(0.5, 1e-3 * g * g);
                }
                // Some values on a decision midpoint (the block's absmax 1): their vectors take the search's
                // rare path, which the compiled loop would otherwise leave out and have to be compiled again for.
                first[b][0] = 1f;
                second[b][0] = 1f;
                first[b][1 + b] = signed.value(130 + b) / 2 + signed.value(131 + b) / 2;
                second[b][1 + b] = unsigned.value(40 + b) / 2 + unsigned.value(41 + b) / 2;
            }
        }

        void round(int round) {
            int b = round & 7;
            // Every directed rounding the rules use, in turn (each has its own lattice and tables).
            boolean keepSign = (round & 8) != 0 && signed.canKeepSign();
            boolean keepPositive = (round & 16) != 0;
            // Blocks of every length's shape: whole vectors and a tail.
            int n = (round & 32) != 0 ? BLOCK - 3 : BLOCK;
            encode(first[b], n, codes, signed, keepSign, keepPositive);
            encode(second[b], n, secondCodes, unsigned, false, keepPositive);
            if (VectorCodec.DECODES) {
                VectorCodec.decode(codes, n, 1f, true, decoded);
                VectorCodec.decode(secondCodes, n, 1f, false, decodedSecond);
            }
            VectorCodec.raiseToSquareFloor(decoded, decodedSecond, 1e-3f, n);
        }

        private static void encode(float[] values, int n, byte[] codes, QuantizationMap map, boolean keepSign,
                boolean keepPositive) {
            float absmax = VectorCodec.largestMagnitude(values, n);
            NearestCodeLattice lattice = map.lattice(keepSign, keepPositive);
            if (lattice != null) {
                VectorCodec.encodeNormalized(values, n, 1f / absmax, codes, map, lattice, map.buckets(keepSign),
                        map.midpointFloors(keepSign, keepPositive));
            }
        }
    }
}
