package dev.octet.agent;

import dev.octet.policy.NearestName;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The agent's settings, in the usual precedence for Java agents: the agent argument
 * ({@code -javaagent:octet-agent.jar=policy=model.yaml}), then system properties
 * ({@code -Doctet.policy=model.yaml}), then environment variables ({@code OCTET_POLICY}).
 * Switches: {@code octet.enabled=false} turns the agent off, {@code octet.<module>.enabled=false}
 * one instrumentation module (e.g. {@code octet.dl4j.enabled=false}).
 *
 * <p>Every setting is checked before the job starts: an agent argument or an {@code octet.} system
 * property octet does not know, or a value of the wrong kind, is one error naming the setting, what is
 * wrong and what it takes (with the nearest known name for a misspelled one). An agent argument's value
 * may be put in double quotes to hold commas ({@code policy="a,b.yaml"}). Settings the kernels read
 * themselves ({@code threads}, {@code cuda.*}, {@code cpu.codec}, {@code dl4j.fusedStep}) are handed on as system properties when they were given
 * another way.
 */
record AgentConfig(Map<String, String> agentArguments, Map<String, String> systemProperties, Map<String, String> environment) {

    /** What a setting's value must be. */
    enum Kind {
        PATH("a file path"),
        BOOLEAN("true or false"),
        THREADS("a whole number from 1 to 1024"),
        DEVICE("a CUDA device number, 0 or more"),
        CTA_THREADS("a power of two from 32 to 512"),
        CODEC("auto, scalar or vector");

        final String expected;

        Kind(String expected) {
            this.expected = expected;
        }

        boolean accepts(String value) {
            return switch (this) {
                case PATH -> !value.isBlank();
                case BOOLEAN -> value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false");
                case THREADS -> wholeNumber(value, 1, 1024);
                case DEVICE -> wholeNumber(value, 0, 1 << 16);
                case CTA_THREADS -> wholeNumber(value, 32, 512) && Integer.bitCount(Integer.parseInt(value.trim())) == 1;
                case CODEC -> List.of("auto", "scalar", "vector").contains(value.trim().toLowerCase(Locale.ROOT));
            };
        }

        private static boolean wholeNumber(String value, int min, int max) {
            String v = value.trim();
            if (v.isEmpty() || v.length() > 9 || !v.chars().allMatch(Character::isDigit)) {
                return false;
            }
            int n = Integer.parseInt(v);
            return n >= min && n <= max;
        }
    }

    /** The settings every agent knows, besides {@code <module>.enabled}. */
    private static final Map<String, Kind> SETTINGS = Map.of(
            "cpu.codec", Kind.CODEC,
            "policy", Kind.PATH,
            "enabled", Kind.BOOLEAN,
            "debug", Kind.BOOLEAN,
            "threads", Kind.THREADS,
            "cuda.device", Kind.DEVICE,
            "cuda.fatbin", Kind.PATH,
            "cuda.threads", Kind.CTA_THREADS,
            "dl4j.fusedStep", Kind.BOOLEAN);

    /** Settings that code outside the agent (the kernels) reads from system properties. */
    private static final List<String> HANDED_ON = List.of("threads", "debug", "cuda.device", "cuda.fatbin", "cuda.threads",
            "cpu.codec", "dl4j.fusedStep");

    /**
     * Reads and checks every setting; {@code modules} are the instrumentation modules' names (each has
     * an {@code <name>.enabled} switch).
     *
     * @throws IllegalArgumentException with the message for the user, if anything is wrong
     */
    static AgentConfig of(String agentArgs, Map<String, String> systemProperties, Map<String, String> environment,
            List<String> modules) {
        Map<String, Kind> known = new LinkedHashMap<>(SETTINGS);
        for (String module : modules) {
            known.put(module + ".enabled", Kind.BOOLEAN);
        }
        Map<String, String> arguments = parseArguments(agentArgs);
        for (Map.Entry<String, String> e : arguments.entrySet()) {
            check(known, e.getKey(), e.getValue(), "agent argument '" + e.getKey() + "'", "");
        }
        for (Map.Entry<String, String> e : systemProperties.entrySet()) {
            if (e.getKey().startsWith("octet.")) {
                String key = e.getKey().substring("octet.".length());
                if (key.equals("experiment.map") || key.equals("experiment.scaling") || key.equals("cpu.vectorBits")) {
                    // The fidelity study's ablation switches (dev.octet.kernels.Experiment, docs/fidelity): not
                    // settings for users, not documented; the kernels check their values themselves. cpu.vectorBits:
                    // the SIMD codec's narrower vectors on a wide processor, for the kernels' tests.
                    continue;
                }
                check(known, key, e.getValue(), "system property -D" + e.getKey(), "octet.");
            }
        }
        for (String key : known.keySet()) {
            String value = environment.get(environmentName(key));
            if (value != null) {
                check(known, key, value, "environment variable " + environmentName(key), "");
            }
        }
        return new AgentConfig(arguments, systemProperties, environment);
    }

    /** {@code key=value} pairs separated by commas; a value in double quotes may hold commas. */
    private static Map<String, String> parseArguments(String agentArgs) {
        Map<String, String> arguments = new HashMap<>();
        if (agentArgs == null || agentArgs.isBlank()) {
            return arguments;
        }
        List<String> pairs = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < agentArgs.length(); i++) {
            char c = agentArgs.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                pairs.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("octet agent arguments '" + agentArgs + "' open a double quote they do not"
                    + " close; write -javaagent:octet-agent.jar=policy=\"<file, with commas>\"");
        }
        pairs.add(current.toString());
        for (String pair : pairs) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("octet agent argument '" + pair
                        + "' is not key=value; write -javaagent:octet-agent.jar=policy=<file>");
            }
            String key = pair.substring(0, eq).trim();
            if (arguments.put(key, pair.substring(eq + 1).trim()) != null) {
                throw new IllegalArgumentException("octet agent argument '" + key + "' is given twice; give it once");
            }
        }
        return arguments;
    }

    private static void check(Map<String, Kind> known, String key, String value, String what, String prefix) {
        Kind kind = known.get(key);
        if (kind == null) {
            String nearest = NearestName.among(key, known.keySet()).orElse(null);
            throw new IllegalArgumentException("octet does not know the " + what
                    + (nearest == null ? "" : "; did you mean '" + prefix + nearest + "'?") + " octet's settings: "
                    + String.join(", ", new TreeSet<>(known.keySet())));
        }
        if (!kind.accepts(value)) {
            throw new IllegalArgumentException("octet's " + what + " is '" + excerpt(value) + "'; it takes "
                    + kind.expected);
        }
    }

    static String excerpt(String value) {
        return value.length() <= 60 ? value : value.substring(0, 57) + "...";
    }

    private static String environmentName(String key) {
        return "OCTET_" + key.toUpperCase(Locale.ROOT).replace('.', '_');
    }

    /** A setting by its short key ({@code policy}, {@code dl4j.enabled}), or null. */
    String get(String key) {
        String value = agentArguments.get(key);
        if (value == null) {
            value = systemProperties.get("octet." + key);
        }
        if (value == null) {
            value = environment.get(environmentName(key));
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

    /** The settings other parts of octet read as system properties, given here as arguments or environment. */
    Map<String, String> handedOn() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String key : HANDED_ON) {
            String value = get(key);
            if (value != null && !value.equals(systemProperties.get("octet." + key))) {
                out.put("octet." + key, value.trim());
            }
        }
        return out;
    }

    /** What identifies this configuration, to tell a second {@code -javaagent} of the same apart from another. */
    String identity() {
        Path policy = policyFile();
        return "policy=" + (policy == null ? "<defaults>" : policy.toAbsolutePath().normalize()) + " " + new TreeSet<>(
                agentArguments.entrySet().stream().filter(e -> !e.getKey().equals("policy")).map(Object::toString).toList());
    }
}
