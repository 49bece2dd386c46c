package dev.octet.adapters.dl4j;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One line of advice with a DL4J job's start-up report, once per JVM: ND4J's OpenMP threads, under
 * OpenMP's default wait policy, spin after each operation and hold the cores that DL4J's next operation
 * and octet's update threads then wait for. {@code OMP_WAIT_POLICY=PASSIVE} changes no result and, on
 * this project's 2-core machine, made DL4J's demo 1.85x faster and octet's two-thread step of a 54M
 * network 1.5x faster (docs/dl4j.md). octet cannot set it: the OpenMP runtime reads it when it starts.
 */
final class OpenMpWaitHint {

    static final String LINE = "octet: OMP_WAIT_POLICY is not set, so ND4J's idle OpenMP threads spin and hold cores that"
            + " DL4J's next operation and octet's update wait for; OMP_WAIT_POLICY=PASSIVE in the job's environment"
            + " changes no result and made DL4J's demo 1.85x and octet's two-thread update 1.5x faster on a 2-core machine"
            + " (octet's README; said once per JVM)";

    private static final AtomicBoolean TOLD = new AtomicBoolean();

    private OpenMpWaitHint() {
    }

    /** Whether to give the advice: the wait policy is OpenMP's default and OpenMP runs more than one thread. */
    static boolean applies(Map<String, String> environment, int processors) {
        if (environment.get("OMP_WAIT_POLICY") != null) {
            return false;
        }
        String threads = environment.get("OMP_NUM_THREADS");
        if (threads == null || threads.isBlank()) {
            return processors > 1;
        }
        // A list ("4,2") gives the outermost level first.
        try {
            return Integer.parseInt(threads.split(",")[0].trim()) > 1;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Gives the advice once per JVM where it applies. */
    static void tellOnce() {
        if (applies(System.getenv(), Runtime.getRuntime().availableProcessors()) && TOLD.compareAndSet(false, true)) {
            Dl4jHooks.tell(LINE);
        }
    }
}
