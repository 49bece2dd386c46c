package dev.octet.adapters.core;

import dev.octet.policy.Policy;

/**
 * The one failure policy of every hook octet weaves into a framework, whatever the framework.
 *
 * <p>A hook that throws must never take the job down with an error of octet's where the framework could
 * go on by itself: under {@code onError: warn} (the default) {@link #standAside} prints one warning per
 * framework, hook and kind of failure, and the caller then leaves that model on the framework's own path
 * (its own optimizer, its own 32-bit state). Under {@code onError: fail} the user asked octet to stop
 * rather than run a job it does not fully handle, so the same call throws an {@link OctetFailure}, which
 * the hook lets through into the framework's call.
 *
 * <p>Where octet already changed something the framework relies on (DL4J's state view sized for 8-bit
 * state), the framework cannot take the model back, and {@link #cannotGoBack} stops the job under either
 * setting rather than let it train on memory laid out for octet.
 */
public final class HookFailures {

    private HookFailures() {
    }

    /**
     * {@code hook} of {@code framework} threw {@code failure}; {@code consequence} says what the caller
     * does instead ("DL4J's own updater keeps this network's state"). Returns under {@code onError: warn},
     * throws {@link OctetFailure} under {@code onError: fail}.
     */
    public static void standAside(String framework, String hook, Throwable failure, String consequence) {
        rethrowIfStopping(failure);
        String what = "octet's " + framework + " " + hook + " hook failed (" + failure + ")";
        if (OctetRuntime.policy().onError() == Policy.OnError.FAIL) {
            throw OctetRuntime.stop(what, failure);
        }
        // Once per hook and kind of failure: a hook failing every step warns once, another failure is another problem.
        OctetRuntime.warnOnce("hook-failed:" + framework + ":" + hook + ":" + failure.getClass().getName(),
                what + "; " + consequence);
    }

    /**
     * {@code hook} of {@code framework} threw after octet laid out state the framework cannot use
     * ({@code why} says which): the job stops, whatever {@code onError} says. Returned for the caller to throw.
     */
    public static OctetFailure cannotGoBack(String framework, String hook, Throwable failure, String why) {
        if (failure instanceof OctetFailure stopping) {
            return stopping;
        }
        return OctetRuntime.stop("octet's " + framework + " " + hook + " hook failed (" + failure + ") after " + why
                + ", which " + framework + " cannot use by itself; the job cannot go on", failure);
    }

    /** An {@link OctetFailure} from a nested call is already the decision: it goes on up, unchanged. */
    private static void rethrowIfStopping(Throwable failure) {
        if (failure instanceof OctetFailure stopping) {
            throw stopping;
        }
    }
}
