package dev.octet.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KernelPoolTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 8})
    void everyIndexRunsExactlyOnce(int threads) {
        KernelPool pool = KernelPool.ofThreads(threads);
        for (int count : new int[] {0, 1, 7, 100, 1000, 12_345}) {
            for (int minPerRange : new int[] {1, 10, 1 << 20}) {
                AtomicIntegerArray seen = new AtomicIntegerArray(count);
                pool.forRanges(count, minPerRange, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        seen.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < count; i++) {
                    assertEquals(1, seen.get(i), "index " + i + " of " + count + ", at least " + minPerRange + " per range");
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void aFailingRangeFailsTheCallWithItsException(int threads) {
        KernelPool pool = KernelPool.ofThreads(threads);
        IllegalStateException failure = new IllegalStateException("range failed");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> pool.forRanges(64, 1, (from, to) -> {
            if (from <= 40 && 40 < to) {
                throw failure;
            }
        }));
        assertSame(failure, thrown);
        // The pool still works afterwards.
        AtomicIntegerArray seen = new AtomicIntegerArray(64);
        pool.forRanges(64, 1, (from, to) -> seen.addAndGet(0, to - from));
        assertEquals(64, seen.get(0));
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 4})
    void aRangeMayItselfRunInParallel(int threads) {
        KernelPool pool = KernelPool.ofThreads(threads);
        AtomicIntegerArray seen = new AtomicIntegerArray(64 * 64);
        pool.forRanges(64, 1, (from, to) -> {
            for (int outer = from; outer < to; outer++) {
                int base = outer * 64;
                pool.forRanges(64, 1, (f, t) -> {
                    for (int i = f; i < t; i++) {
                        seen.incrementAndGet(base + i);
                    }
                });
            }
        });
        for (int i = 0; i < seen.length(); i++) {
            assertEquals(1, seen.get(i), "index " + i);
        }
    }
}
