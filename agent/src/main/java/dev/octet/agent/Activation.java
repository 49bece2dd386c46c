package dev.octet.agent;

import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;

import dev.octet.adapters.core.OctetRuntime;
import dev.octet.policy.Policy;
import dev.octet.policy.PolicyException;
import dev.octet.policy.PolicyParser;
import java.lang.instrument.ClassFileTransformer;
import java.nio.file.Path;
import java.util.List;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.utility.JavaModule;

/** The agent's ByteBuddy machinery, reached only when a framework wakes it ({@link Dormant}). */
final class Activation {

    private Activation() {
    }

    /**
     * Reads the policy, then returns the transformations of {@code modules} (the enabled ones) as one
     * transformer (not registered: {@link Dormant} calls it). A wrong policy file stops the job here.
     */
    static ClassFileTransformer start(AgentConfig config, List<InstrumentationModule> modules) {
        OctetRuntime.install(loadPolicy(config.policyFile()));
        HelperInjector helpers = HelperInjector.fromAgentJar();
        AgentBuilder builder = agentBuilder();
        for (InstrumentationModule module : modules) {
            try {
                builder = ModuleInstaller.install(builder, module, helpers);
            } catch (RuntimeException | LinkageError e) {
                // Never break the job: that framework keeps its own 32-bit optimizer state.
                OctetRuntime.warnOnce("module:" + module.name(), "could not set up octet for " + module.name() + " ("
                        + e + "); its optimizer state stays 32-bit");
            }
        }
        return builder.makeRaw();
    }

    /** ByteBuddy's agent as octet uses it, before any module adds its types. */
    static AgentBuilder agentBuilder() {
        return new AgentBuilder.Default()
                .ignore(nameStartsWith("dev.octet.").or(nameStartsWith("java.")).or(nameStartsWith("jdk."))
                        .or(nameStartsWith("sun.")))
                // Advice and member substitutions only, woven into the methods as they are: no member is
                // added or renamed and no static initializer added (octet's advice needs none), so a
                // transformed class keeps its shape, and with it the default serialVersionUID Java computes
                // from that shape (dl4j-spark sends its workers, which octet instruments, between JVMs with
                // and without the agent).
                .with(AgentBuilder.TypeStrategy.Default.DECORATE)
                .with(AgentBuilder.InitializationStrategy.NoOp.INSTANCE)
                .with(new FailureListener());
    }

    private static Policy loadPolicy(Path file) {
        if (file == null) {
            return Policy.defaults();
        }
        try {
            return PolicyParser.parse(file);
        } catch (PolicyException e) {
            OctetAgent.stop(e.getMessage());
            return null;
        }
    }

    /** Transformation errors are warned about once per type; the type then loads untransformed. */
    private static final class FailureListener extends AgentBuilder.Listener.Adapter {
        @Override
        public void onError(String typeName, ClassLoader classLoader, JavaModule module, boolean loaded,
                Throwable throwable) {
            OctetRuntime.warnOnce("transform:" + typeName + ":" + throwable.getClass().getName(), "could not instrument "
                    + typeName + " (" + throwable
                    + "); that part of the job keeps its 32-bit optimizer state");
        }

        @Override
        public void onTransformation(TypeDescription typeDescription, ClassLoader classLoader, JavaModule module,
                boolean loaded, DynamicType dynamicType) {
            if (Boolean.getBoolean("octet.debug")) {
                System.err.println("[octet] instrumented " + typeDescription.getName());
            }
        }
    }
}
