package dev.octet.adapters.core;

import dev.octet.policy.ParameterInfo;
import dev.octet.policy.Policy;
import dev.octet.policy.Rule;
import java.util.Collection;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * What the agent set up for this JVM, as the adapters see it: the policy, and the two ways octet
 * speaks to the user (a warning once per cause, the start-up report). It lives in the class loader
 * the agent jar is in (the system class loader), so every adapter sees the same one.
 */
public final class OctetRuntime {

    private static volatile Policy policy = Policy.defaults();
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

    private OctetRuntime() {
    }

    /** Set once by the agent at start-up. */
    public static void install(Policy installed) {
        policy = installed;
    }

    public static Policy policy() {
        return policy;
    }

    /**
     * Prints {@code message} once per {@code key} for the life of the JVM, on standard error (the
     * job's logging may not be set up when instrumentation runs).
     */
    public static void warnOnce(String key, String message) {
        if (WARNED.add(key)) {
            System.err.println("[octet] WARNING: " + message);
        }
    }

    /** Prints {@code message} (information, not a problem) once per {@code key}, on standard error. */
    public static void noteOnce(String key, String message) {
        if (WARNED.add(key)) {
            System.err.println("[octet] " + message);
        }
    }

    /**
     * Something octet cannot handle in this job (an unknown framework version, an unsupported setup),
     * found while the job runs: with {@code onError: fail} in the policy this throws an
     * {@link OctetFailure} with the reason (the caller lets it through, so the job stops there), else one
     * warning per {@code key} and the caller leaves that part of the job on the framework's own 32-bit
     * path. {@code message} says what and what happens to the job. Never called while a class is
     * transformed: an exception there only leaves the class untransformed (the agent weaves
     * {@link #stopBecauseUnsupported} into it instead).
     */
    public static void unsupported(String key, String message) {
        if (failsOnError()) {
            throw stop(message + ", and the policy says onError: fail", null);
        }
        warnOnce(key, message);
    }

    /** Whether the policy says {@code onError: fail}. */
    public static boolean failsOnError() {
        return policy.onError() == Policy.OnError.FAIL;
    }

    /**
     * Called first in every method and constructor of a framework class that octet would have instrumented,
     * where it found a setup it does not handle and the policy says {@code onError: fail}: the job stops at
     * the first use of that class, with {@code reason}.
     */
    public static void stopBecauseUnsupported(String reason) {
        throw stop(reason + ", and the policy says onError: fail", null);
    }

    /** The failure that stops the job with {@code message}, said once on standard error too (the job may swallow it). */
    static OctetFailure stop(String message, Throwable cause) {
        if (WARNED.add("stop:" + message)) {
            System.err.println("[octet] " + message);
            System.err.flush();
        }
        return new OctetFailure(message, cause);
    }

    /**
     * One warning per policy rule that matches none of a model's parameters ({@code model} names it in
     * the message; {@code identity} tells models of the same name apart).
     */
    public static void warnUnmatchedRules(String model, Object identity, Collection<ParameterInfo> parameters) {
        for (Rule rule : policy.rulesMatchingNone(parameters)) {
            warnOnce("unmatched-rule:" + policy.source() + ":" + rule.number() + ":" + System.identityHashCode(identity),
                    rule.describe() + " of the policy " + policy.source() + " matches no parameter of " + model
                            + ", so it decides nothing there; the start-up report lists the parameters' names");
        }
    }

    /**
     * Hands a finished report to the policy's target; {@code log} is the framework's own logger
     * (used when the policy says {@code report: log}).
     */
    public static void publish(StartupReport report, Consumer<String> log) {
        String text = report.render();
        var target = policy.report();
        switch (target.kind()) {
            case LOG -> log.accept(text);
            case STDOUT -> print(System.out, text);
            case STDERR -> print(System.err, text);
            case FILE -> {
                try {
                    SafeFiles.append(target.path(), text + System.lineSeparator());
                } catch (IOException e) {
                    warnOnce("report-file:" + target.path(), "cannot write the start-up report to " + target.path() + " ("
                            + e.getMessage() + "); printing it here instead");
                    print(System.err, text);
                }
            }
            default -> throw new IllegalStateException("unknown report target " + target);
        }
    }

    private static void print(PrintStream out, String text) {
        out.println(text);
        out.flush();
    }
}
