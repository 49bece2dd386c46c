package dev.octet.agent;

import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * {@code -javaagent:octet-agent.jar[=policy=<file>]}: checks its settings, then waits, at the cost of a
 * name comparison per class loaded ({@link Dormant}), for a supported framework's first class; only then
 * does it read the policy and let each instrumentation module (one per framework) transform that
 * framework's classes as they load. The agent never makes a job fail that would have run without it,
 * except where the policy says {@code onError: fail} or its settings or policy file are wrong.
 */
public final class OctetAgent {

    /** The configuration of the agent this JVM started with, once started; a second {@code -javaagent} sees it. */
    private static String installed;

    private OctetAgent() {
    }

    public static synchronized void premain(String agentArgs, Instrumentation instrumentation) {
        List<InstrumentationModule> modules = ServiceLoader.load(InstrumentationModule.class,
                OctetAgent.class.getClassLoader()).stream().map(ServiceLoader.Provider::get).toList();
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
        instrumentation.addTransformer(new Dormant(config,
                modules.stream().filter(m -> config.enabled(m.name() + ".enabled")).toList()));
    }

    /** {@code java -jar octet-agent.jar [convert in out]}: a DL4J model file or a DJL state file. */
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
        System.out.println("       java -jar octet-agent.jar convert <in.params.octet> <out.params.octet>   (DJL state -> all float32)");
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

    /**
     * A configuration error: say so once and stop the job before it trains (its intent is unknown): at
     * start-up for the agent's settings, when the first framework class loads for the policy file.
     */
    static void stop(String message) {
        System.err.println("[octet] " + message);
        System.err.println("[octet] the job stops here, before it trains; fix the above, or run without"
                + " -javaagent:octet-agent.jar");
        System.exit(2);
    }

    private static Map<String, String> properties() {
        Map<String, String> out = new HashMap<>();
        System.getProperties().forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
        return out;
    }
}
