package dev.octet.agent;

import dev.octet.adapters.core.OctetRuntime;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.IllegalClassFormatException;
import java.security.ProtectionDomain;
import java.util.List;
import java.util.Map;

/**
 * The agent until a supported framework shows up: the one transformer it registers at start-up, which
 * only compares each loaded class's name with the frameworks' packages. At the first class of an enabled
 * framework it activates the agent (policy, ByteBuddy, modules) and from then on hands ByteBuddy's
 * transformer every class of the packages the modules instrument, that first class included, so a class
 * the modules transform can never load before them. A program without DL4J or DJL pays a name comparison
 * per class, and loads none of the agent's machinery (measured: +0.15 s and +15 MB at most,
 * examples/kernel-benchmarks' StartupBenchmark). The other classes of a job (Spark's, Scala's, ND4J's:
 * thousands in a Spark executor) never reach ByteBuddy. Once active, the agent itself costs a job about
 * 2 s and 80 MB of peak resident memory (ByteBuddy's 1,800 classes and their setup; measured on
 * examples/dl4j-spark's ParallelWrapperAveraging, 2026-12-03: 2.5 s and 163 MB without the agent).
 */
final class Dormant implements ClassFileTransformer {

    /** Each module's name and the packages (internal names) whose first class wakes the agent. */
    static final Map<String, List<String>> TRIGGERS = Map.of(
            "dl4j", List.of("org/deeplearning4j/", "org/nd4j/"),
            "djl", List.of("ai/djl/"));

    /** Each module's name and the packages whose classes it may transform (the only ones ByteBuddy sees). */
    static final Map<String, List<String>> INSTRUMENTED = Map.of(
            "dl4j", List.of("org/deeplearning4j/"),
            "djl", List.of("ai/djl/"));

    private final AgentConfig config;
    private final List<String> prefixes;
    private final List<String> instrumented;
    /** ByteBuddy's transformer once active; a transformer that changes nothing if activation failed. */
    private volatile ClassFileTransformer active;

    Dormant(AgentConfig config) {
        this.config = config;
        this.prefixes = TRIGGERS.entrySet().stream().filter(e -> config.enabled(e.getKey() + ".enabled"))
                .flatMap(e -> e.getValue().stream()).toList();
        this.instrumented = INSTRUMENTED.entrySet().stream().filter(e -> config.enabled(e.getKey() + ".enabled"))
                .flatMap(e -> e.getValue().stream()).toList();
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined, ProtectionDomain domain,
            byte[] bytes) throws IllegalClassFormatException {
        if (name == null) {
            return null;
        }
        ClassFileTransformer delegate = active;
        if (delegate == null) {
            if (!startsWithAny(name, prefixes)) {
                return null;
            }
            delegate = activate();
        }
        return startsWithAny(name, instrumented) ? delegate.transform(module, loader, name, redefined, domain, bytes) : null;
    }

    private static boolean startsWithAny(String name, List<String> prefixes) {
        for (String prefix : prefixes) {
            if (name.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private synchronized ClassFileTransformer activate() {
        if (active == null) {
            try {
                active = Activation.start(config);
            } catch (RuntimeException | LinkageError e) {
                // Never break the job: its frameworks keep their own 32-bit optimizer state.
                OctetRuntime.warnOnce("activation", "could not start octet (" + e + "); the job's optimizer state stays"
                        + " 32-bit");
                active = new ClassFileTransformer() { };
            }
        }
        return active;
    }
}
