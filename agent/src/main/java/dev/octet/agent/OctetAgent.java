package dev.octet.agent;

import dev.octet.adapters.core.OctetRuntime;
import dev.octet.policy.Policy;
import dev.octet.policy.PolicyException;
import dev.octet.policy.PolicyParser;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.utility.JavaModule;

import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;

/**
 * {@code -javaagent:octet-agent.jar[=policy=<file>]}: reads the policy, then lets each
 * instrumentation module (one per framework) transform that framework's classes as they load.
 * The agent never makes a job fail that would have run without it, except where the policy says
 * {@code onError: fail} or the policy file itself is wrong.
 */
public final class OctetAgent {

    /** The configuration of the agent this JVM started with, once started; a second {@code -javaagent} sees it. */
    private static String installed;

    private OctetAgent() {
    }

    public static synchronized void premain(String agentArgs, Instrumentation instrumentation) {
        List<InstrumentationModule> modules = new ArrayList<>();
        ServiceLoader.load(InstrumentationModule.class, OctetAgent.class.getClassLoader()).forEach(modules::add);
        AgentConfig config;
        try {
            config = AgentConfig.of(agentArgs, properties(), System.getenv(),
                    modules.stream().map(InstrumentationModule::name).toList());
        } catch (IllegalArgumentException e) {
            stop(e.getMessage());
            return;
        }
        if (installed != null) {
            // The same agent given twice (a launcher script and JAVA_TOOL_OPTIONS, say) runs once.
            if (!installed.equals(config.identity())) {
                stop("the octet agent is given twice with different settings (" + installed + ", then "
                        + config.identity() + "); give -javaagent:octet-agent.jar once");
            }
            System.err.println("[octet] the octet agent is given twice with the same settings; it runs once");
            return;
        }
        installed = config.identity();
        if (!config.enabled("enabled")) {
            return;
        }
        config.handedOn().forEach(System::setProperty);
        OctetRuntime.install(loadPolicy(config.policyFile()));
        HelperInjector helpers = HelperInjector.fromAgentJar();
        AgentBuilder builder = new AgentBuilder.Default()
                .ignore(nameStartsWith("dev.octet.").or(nameStartsWith("java.")).or(nameStartsWith("jdk."))
                        .or(nameStartsWith("sun.")))
                .with(new FailureListener());
        for (InstrumentationModule module : modules) {
            if (config.enabled(module.name() + ".enabled")) {
                try {
                    builder = module.instrument(builder, helpers);
                } catch (RuntimeException | LinkageError e) {
                    // Never break the job: that framework keeps its own 32-bit optimizer state.
                    OctetRuntime.warnOnce("module:" + module.name(), "could not set up octet for " + module.name() + " ("
                            + e + "); its optimizer state stays 32-bit");
                }
            }
        }
        builder.installOn(instrumentation);
    }

    /** {@code java -jar octet-agent.jar [convert in.zip out.zip]}. */
    public static void main(String[] args) {
        if (args.length == 3 && args[0].equals("convert")) {
            try {
                System.out.println(CheckpointConverter.convert(Path.of(args[1]), Path.of(args[2])));
            } catch (java.io.IOException | RuntimeException e) {
                System.err.println("octet convert: " + describe(e));
                System.exit(1);
            }
            return;
        }
        System.out.println("octet: 8-bit optimizer state for JVM training jobs.");
        System.out.println("usage: java -javaagent:octet-agent.jar[=policy=<model.yaml>] -cp <job> <main class>");
        System.out.println("       java -jar octet-agent.jar convert <in.zip> <out.zip>   (octet's 8-bit state -> plain DL4J)");
        if (args.length > 0) {
            System.exit(2);
        }
    }

    /** An exception as one line for a user: the file systems' exceptions carry only a path as their message. */
    static String describe(Exception e) {
        if (e instanceof java.nio.file.NoSuchFileException f) {
            return "no such file: " + f.getFile();
        } else if (e instanceof java.nio.file.AccessDeniedException f) {
            return "permission denied: " + f.getFile();
        } else if (e instanceof java.nio.file.FileSystemException f) {
            return f.getFile() + ": " + (f.getReason() == null ? f.getClass().getSimpleName() : f.getReason());
        }
        return e.getMessage() == null || e.getMessage().isBlank() ? e.toString() : e.getMessage();
    }

    private static Policy loadPolicy(Path file) {
        if (file == null) {
            return Policy.defaults();
        }
        try {
            return PolicyParser.parse(file);
        } catch (PolicyException e) {
            stop(e.getMessage());
            return null;
        }
    }

    /** A configuration error: say so once and stop before the job starts (its intent is unknown). */
    static void stop(String message) {
        System.err.println("[octet] " + message);
        System.err.println("[octet] the job was not started; fix the above, or run without -javaagent:octet-agent.jar");
        System.exit(2);
    }

    private static Map<String, String> properties() {
        Map<String, String> out = new HashMap<>();
        System.getProperties().forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
        return out;
    }

    /** Transformation errors are warned about once per type; the type then loads untransformed. */
    private static final class FailureListener extends AgentBuilder.Listener.Adapter {
        @Override
        public void onError(String typeName, ClassLoader classLoader, JavaModule module, boolean loaded,
                Throwable throwable) {
            OctetRuntime.warnOnce("transform:" + typeName, "could not instrument " + typeName + " (" + throwable
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
