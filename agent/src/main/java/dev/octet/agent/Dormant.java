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
 * framework it activates the agent (policy, ByteBuddy, modules) and from then on hands every class to
 * ByteBuddy's transformer, that first class included, so a class the modules transform can never load
 * before them. A program without DL4J or DJL pays a name comparison per class, and loads none of the
 * agent's machinery (measured: +0.15 s and +15 MB at most, examples/kernel-benchmarks' StartupBenchmark).
 */
final class Dormant implements ClassFileTransformer {

    /** Each module's name and the packages (internal names) whose first class wakes the agent. */
    static final Map<String, List<String>> TRIGGERS = Map.of(
            "dl4j", List.of("org/deeplearning4j/", "org/nd4j/"),
            "djl", List.of("ai/djl/"));

    private final AgentConfig config;
    private final List<String> prefixes;
    /** ByteBuddy's transformer once active; a transformer that changes nothing if activation failed. */
    private volatile ClassFileTransformer active;

    Dormant(AgentConfig config) {
        this.config = config;
        this.prefixes = TRIGGERS.entrySet().stream().filter(e -> config.enabled(e.getKey() + ".enabled"))
                .flatMap(e -> e.getValue().stream()).toList();
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined, ProtectionDomain domain,
            byte[] bytes) throws IllegalClassFormatException {
        ClassFileTransformer delegate = active;
        if (delegate == null) {
            if (name == null || !wakes(name)) {
                return null;
            }
            delegate = activate();
        }
        return delegate.transform(module, loader, name, redefined, domain, bytes);
    }

    private boolean wakes(String name) {
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
