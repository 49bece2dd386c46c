package dev.octet.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The threads that process blocks in parallel. One shared pool sized to the cores serves every
 * kernel call ({@code -Doctet.threads=N} overrides the size); benchmarks make pools of given sizes.
 *
 * <p>The calling thread is one of the {@code threads}: it works on the ranges itself from the first
 * moment, and {@code threads - 1} helpers join as they wake, each claiming the next unclaimed range. A
 * helper that wakes late (a loaded machine, a parked worker) only costs the ranges it did not take; the
 * caller never waits for a range nobody started, only for those a helper is still working on.
 */
public final class KernelPool {

    private static final KernelPool SHARED = new KernelPool(sharedThreads(System.getProperty("octet.threads")));

    private final int threads;
    private final ForkJoinPool pool;

    private KernelPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads - 1, p -> {
            var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("octet-kernel-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    /** {@code -Doctet.threads}: a whole number from 1 to 1024 (the agent checks it before the job starts). */
    static int sharedThreads(String property) {
        if (property == null) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(property.trim());
            if (n >= 1 && n <= 1024) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException("-Doctet.threads=" + property + ": octet's thread count is a whole number"
                + " from 1 to 1024");
    }

    public static KernelPool shared() {
        return SHARED;
    }

    /** A pool of its own with this many threads (1 runs everything on the calling thread). */
    public static KernelPool ofThreads(int threads) {
        return threads == SHARED.threads ? SHARED : new KernelPool(threads);
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, count)} split into contiguous ranges, in parallel when there
     * is enough work; returns when every range is done. {@code body.accept(from, to)}. Which thread runs
     * a range changes nothing in what it computes.
     */
    void forRanges(int count, int minPerRange, RangeBody body) {
        int ranges = Math.min(threads * 4, Math.max(1, count / Math.max(1, minPerRange)));
        if (pool == null || ranges <= 1) {
            body.accept(0, count);
            return;
        }
        new Region(count, ranges, body).run(pool, Math.min(threads - 1, ranges - 1));
    }

    /** One parallel call: its ranges, claimed one at a time by the caller and the helpers. */
    private static final class Region implements Runnable {

        /**
         * How long the caller spins before it parks to wait for a helper's last range: parking and
         * being woken costs more than that on a loaded machine, and the wait is usually shorter.
         */
        private static final long SPIN_NANOS = 20_000;

        private final int count;
        private final int ranges;
        private final RangeBody body;
        private final Thread caller = Thread.currentThread();
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger unfinished;
        private volatile Throwable failure;

        Region(int count, int ranges, RangeBody body) {
            this.count = count;
            this.ranges = ranges;
            this.body = body;
            this.unfinished = new AtomicInteger(ranges);
        }

        void run(ForkJoinPool pool, int helpers) {
            for (int h = 0; h < helpers; h++) {
                pool.execute(this);
            }
            work();
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            boolean spin = true;
            while (unfinished.get() > 0) {
                if (spin) {
                    Thread.onSpinWait();
                    spin = System.nanoTime() < spinUntil;
                } else {
                    LockSupport.park(this);
                }
            }
            Throwable f = failure;
            if (f instanceof RuntimeException e) {
                throw e;
            }
            if (f instanceof Error e) {
                throw e;
            }
            if (f != null) {
                throw new IllegalStateException(f);
            }
        }

        /** A helper's part. */
        @Override
        public void run() {
            work();
        }

        private void work() {
            for (int r; (r = next.getAndIncrement()) < ranges; ) {
                try {
                    if (failure == null) {
                        body.accept((int) ((long) count * r / ranges), (int) ((long) count * (r + 1) / ranges));
                    }
                } catch (Throwable e) {
                    if (failure == null) {
                        failure = e;
                    }
                } finally {
                    if (unfinished.decrementAndGet() == 0 && Thread.currentThread() != caller) {
                        LockSupport.unpark(caller);
                    }
                }
            }
        }
    }

    @FunctionalInterface
    interface RangeBody {
        void accept(int from, int to);
    }
}
