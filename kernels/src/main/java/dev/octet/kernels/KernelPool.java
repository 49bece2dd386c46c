package dev.octet.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * The threads that process blocks in parallel. One shared pool sized to the cores serves every
 * kernel call ({@code -Doctet.threads=N} overrides the size); benchmarks make pools of given sizes.
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
        this.pool = threads == 1 ? null : new ForkJoinPool(threads, p -> {
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
     * is enough work; returns when every range is done. {@code body.accept(from, to)}.
     */
    void forRanges(int count, int minPerRange, RangeBody body) {
        int ranges = Math.min(threads * 4, Math.max(1, count / Math.max(1, minPerRange)));
        if (pool == null || ranges <= 1) {
            body.accept(0, count);
            return;
        }
        ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[ranges];
        for (int r = 0; r < ranges; r++) {
            int from = (int) ((long) count * r / ranges);
            int to = (int) ((long) count * (r + 1) / ranges);
            tasks[r] = ForkJoinTask.adapt(() -> body.accept(from, to));
        }
        pool.invoke(new RecursiveAction() {
            @Override
            protected void compute() {
                invokeAll(tasks);
            }
        });
    }


    @FunctionalInterface
    interface RangeBody {
        void accept(int from, int to);
    }
}
