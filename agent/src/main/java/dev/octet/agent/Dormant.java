package dev.octet.agent;

import dev.octet.adapters.core.OctetRuntime;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.IllegalClassFormatException;
import java.security.ProtectionDomain;
import java.util.List;

/**
 * The agent until a supported framework shows up: the one transformer it registers at start-up, which
 * only compares each loaded class's name with the frameworks' packages. At the first class of an enabled
 * framework it activates the agent (policy, ByteBuddy, modules) and from then on hands ByteBuddy's
 * transformer every class of the packages the modules instrument, that first class included, so a class
 * the modules transform can never load before them. A program without DL4J or DJL pays a name comparison
 * per class, and loads none of the agent's machinery. The other classes of a job (Spark's, Scala's,
 * ND4J's: thousands in a Spark executor) never reach ByteBuddy. What either costs is measured in
 * docs/architecture.md.
 */
final class Dormant implements ClassFileTransformer {

    private final AgentConfig config;
    private final List<InstrumentationModule> modules;
    private final List<String> prefixes;
    private final List<String> instrumented;
    /** ByteBuddy's transformer once active; a transformer that changes nothing if activation failed. */
    private volatile ClassFileTransformer active;

    /** {@code modules}: the enabled ones; each declares the packages that wake it and those it instruments. */
    Dormant(AgentConfig config, List<InstrumentationModule> modules) {
        this.config = config;
        this.modules = List.copyOf(modules);
        this.prefixes = modules.stream().flatMap(m -> m.framework().triggerPackages().stream()).toList();
        this.instrumented = modules.stream().flatMap(m -> m.framework().instrumentedPackages().stream()).toList();
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
                active = Activation.start(config, modules);
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
