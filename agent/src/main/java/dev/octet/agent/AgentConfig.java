package dev.octet.agent;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The agent's settings, in the usual precedence for Java agents: the agent argument
 * ({@code -javaagent:octet-agent.jar=policy=model.yaml}), then system properties
 * ({@code -Doctet.policy=model.yaml}), then environment variables ({@code OCTET_POLICY}).
 * Switches: {@code octet.enabled=false} turns the agent off, {@code octet.<module>.enabled=false}
 * one instrumentation module (e.g. {@code octet.dl4j.enabled=false}).
 */
record AgentConfig(Map<String, String> agentArguments, Map<String, String> systemProperties, Map<String, String> environment) {

    static AgentConfig of(String agentArgs, Map<String, String> systemProperties, Map<String, String> environment) {
        Map<String, String> arguments = new HashMap<>();
        if (agentArgs != null && !agentArgs.isBlank()) {
            for (String pair : agentArgs.split(",")) {
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("octet agent argument '" + pair
                            + "' is not key=value; write -javaagent:octet-agent.jar=policy=<file>");
                }
                arguments.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            }
        }
        return new AgentConfig(arguments, systemProperties, environment);
    }

    /** A setting by its short key ({@code policy}, {@code dl4j.enabled}), or null. */
    String get(String key) {
        String value = agentArguments.get(key);
        if (value == null) {
            value = systemProperties.get("octet." + key);
        }
        if (value == null) {
            value = environment.get("OCTET_" + key.toUpperCase(Locale.ROOT).replace('.', '_'));
        }
        return value;
    }

    /** The policy file, or null for the defaults. */
    Path policyFile() {
        String value = get("policy");
        return value == null || value.isBlank() ? null : Path.of(value);
    }

    boolean enabled(String key) {
        return !"false".equalsIgnoreCase(get(key));
    }
}
