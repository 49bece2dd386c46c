package org.example.fwhelpers;

import org.example.fw.Counter;

/** Stands in for octet's helpers of the made-up framework: injected where {@link Counter} lives, and typed by it. */
public final class Tally {

    public static int calls;
    public static Counter last;

    private Tally() {
    }

    public static void entered(Counter counter, int x) {
        calls++;
        last = counter;
    }

    /** Replaces the framework's calls to {@code Math.abs(int)}. */
    public static int abs(int x) {
        return 1000;
    }
}
