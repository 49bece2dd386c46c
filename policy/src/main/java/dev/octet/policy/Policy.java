package dev.octet.policy;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * An immutable policy: which parameters get 8-bit block-wise quantized optimizer state, read from
 * a YAML file by {@link PolicyParser} (the format is described in the package documentation).
 * Setting names follow bitsandbytes: {@code bits} is {@code optim_bits}, {@code blockSize} is
 * {@code block_size}, {@code minQuantizedSize} is {@code min_8bit_size}.
 */
public final class Policy {

    /** What the agent does when it cannot apply the policy to a parameter. */
    public enum OnError {
        /** Log a warning and keep the parameter's state at 32 bits. */
        WARN,
        /** Stop the training job. */
        FAIL;

        /** The notation in a policy file: {@code warn} or {@code fail}. */
        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }

        static OnError parse(String text) {
            for (OnError value : values()) {
                if (value.key().equals(text)) {
                    return value;
                }
            }
            throw new IllegalArgumentException("onError '" + text + "' is not supported. Use one of: "
                    + Arrays.stream(values()).map(OnError::key).collect(Collectors.joining(", ")));
        }
    }

    /** The source name of {@link #defaults()}. */
    public static final String DEFAULTS_SOURCE = "<defaults>";

    private static final Policy DEFAULTS = new Policy(QuantizationSettings.DEFAULTS, List.of(), List.of(),
            OnError.WARN, ReportTarget.LOG, DEFAULTS_SOURCE);

    private final QuantizationSettings defaults;
    private final List<Rule> rules;
    private final List<NamePattern> stableEmbeddings;
    private final OnError onError;
    private final ReportTarget report;
    private final String source;

    Policy(QuantizationSettings defaults, List<Rule> rules, List<NamePattern> stableEmbeddings,
           OnError onError, ReportTarget report, String source) {
        if (!defaults.isComplete()) {
            throw new IllegalArgumentException("default settings must all be given: " + defaults);
        }
        this.defaults = defaults;
        this.rules = List.copyOf(rules);
        this.stableEmbeddings = List.copyOf(stableEmbeddings);
        this.onError = Objects.requireNonNull(onError, "onError");
        this.report = Objects.requireNonNull(report, "report");
        this.source = Objects.requireNonNull(source, "source");
    }

    /** The policy used when none is given: bitsandbytes' defaults, no rules, no stable embeddings. */
    public static Policy defaults() {
        return DEFAULTS;
    }

    /**
     * Decides how to store {@code parameter}'s optimizer state.
     *
     * <ol>
     *   <li>A parameter of a layer named by {@code stableEmbeddings} keeps 32-bit state and is
     *       marked as a stable embedding; block size and overrides still come from the first
     *       matching rule, if any.</li>
     *   <li>Otherwise the first matching rule decides; what it leaves out comes from the
     *       defaults.</li>
     *   <li>8-bit state for a tensor with fewer elements than the effective
     *       {@code minQuantizedSize} becomes 32-bit, as in bitsandbytes.</li>
     * </ol>
     */
    public Decision decide(ParameterInfo parameter) {
        Optional<Rule> rule = rules.stream().filter(r -> r.matches(parameter)).findFirst();
        QuantizationSettings settings = rule.map(r -> r.settings().withFallback(defaults)).orElse(defaults);
        OptimizerOverrides overrides = rule.map(Rule::overrides).orElse(OptimizerOverrides.NONE);
        String decidedBy = rule.map(Rule::describe).orElse("defaults");

        Optional<NamePattern> stableEmbedding = stableEmbeddingPattern(parameter.layerName());
        if (stableEmbedding.isPresent()) {
            NamePattern pattern = stableEmbedding.get();
            String reason = "stable embedding " + pattern + " (line " + pattern.line() + ")"
                    + rule.map(r -> ", settings from " + r.describe()).orElse("");
            return new Decision(32, settings.blockSize(), overrides, true, reason);
        }
        long elements = parameter.elements();
        if (settings.bits() == 8 && elements < settings.minQuantizedSize()) {
            String reason = decidedBy + ": " + Rule.formatCount(elements) + " elements < minQuantizedSize "
                    + Rule.formatCount(settings.minQuantizedSize());
            return new Decision(32, settings.blockSize(), overrides, false, reason);
        }
        return new Decision(settings.bits(), settings.blockSize(), overrides, false,
                decidedBy + " -> " + settings.bits() + "-bit");
    }

    /** The rules that match none of {@code parameters} (a model's): a misspelled name, most likely. */
    public List<Rule> rulesMatchingNone(Collection<ParameterInfo> parameters) {
        return rules.stream().filter(r -> parameters.stream().noneMatch(r::matches)).toList();
    }

    /**
     * The {@code stableEmbeddings} pattern, as written, that {@code layerName} matches (the first
     * one), or empty if the layer is not to become a stable embedding.
     */
    public Optional<String> isStableEmbedding(String layerName) {
        return stableEmbeddingPattern(layerName).map(NamePattern::text);
    }

    private Optional<NamePattern> stableEmbeddingPattern(String layerName) {
        return stableEmbeddings.stream().filter(p -> p.matches(layerName)).findFirst();
    }

    public int defaultBits() {
        return defaults.bits();
    }

    public int defaultBlockSize() {
        return defaults.blockSize();
    }

    public long defaultMinQuantizedSize() {
        return defaults.minQuantizedSize();
    }

    /** The rules, in the order they are tried. */
    public List<Rule> rules() {
        return rules;
    }

    /** Patterns over layer names of embedding layers to turn into stable embeddings. */
    public List<NamePattern> stableEmbeddings() {
        return stableEmbeddings;
    }

    public OnError onError() {
        return onError;
    }

    public ReportTarget report() {
        return report;
    }

    /** The file the policy was read from, the name given to {@link PolicyParser#parse(String, String)},
     *  or {@value #DEFAULTS_SOURCE}. */
    public String source() {
        return source;
    }
}
