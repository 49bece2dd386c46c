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
     * Something octet cannot handle in this job (an unknown framework version, an unsupported setup):
     * with {@code onError: fail} in the policy the job stops here with the reason (exit code 2), else
     * one warning per {@code key} and the caller leaves that part of the job on the framework's own
     * 32-bit path. {@code message} says what and what happens to the job.
     */
    public static void unsupported(String key, String message) {
        if (policy.onError() == Policy.OnError.FAIL) {
            System.err.println("[octet] " + message + ", and the policy says onError: fail");
            System.err.flush();
            System.exit(2);
        }
        warnOnce(key, message);
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
