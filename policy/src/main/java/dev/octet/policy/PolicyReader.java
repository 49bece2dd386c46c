package dev.octet.policy;

import static dev.octet.policy.PolicyKeys.BITS;
import static dev.octet.policy.PolicyKeys.BLOCK_SIZE;
import static dev.octet.policy.PolicyKeys.DEFAULTS;
import static dev.octet.policy.PolicyKeys.LAYER_TYPE;
import static dev.octet.policy.PolicyKeys.MATCH;
import static dev.octet.policy.PolicyKeys.MAX_ELEMENTS;
import static dev.octet.policy.PolicyKeys.MIN_ELEMENTS;
import static dev.octet.policy.PolicyKeys.MIN_QUANTIZED_SIZE;
import static dev.octet.policy.PolicyKeys.NAME;
import static dev.octet.policy.PolicyKeys.ON_ERROR;
import static dev.octet.policy.PolicyKeys.OPTIMIZER;
import static dev.octet.policy.PolicyKeys.REPORT;
import static dev.octet.policy.PolicyKeys.RULES;
import static dev.octet.policy.PolicyKeys.STABLE_EMBEDDINGS;
import static dev.octet.policy.PolicyKeys.VERSION;

import dev.octet.policy.OptimizerOverrides.Hyperparameter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.nodes.Node;

/** Builds a {@link Policy} from the composed YAML tree of a policy file, section by section. */
final class PolicyReader {

    private static final long SUPPORTED_VERSION = 1;

    private final NodeReader nodes;
    private final String source;

    PolicyReader(String source) {
        this.nodes = new NodeReader(source);
        this.source = source;
    }

    Policy read(Node root) {
        YamlMapping policy = nodes.topLevel(root, PolicyKeys.TOP_LEVEL);
        policy.integer(VERSION, PolicyReader::supportedVersion);
        QuantizationSettings defaults = policy.mapping(DEFAULTS, PolicyKeys.SETTINGS)
                .map(this::readSettings)
                .map(settings -> settings.withFallback(QuantizationSettings.DEFAULTS))
                .orElse(QuantizationSettings.DEFAULTS);
        List<Rule> rules = policy.list(RULES).map(this::readRules).orElse(List.of());
        List<NamePattern> stableEmbeddings = policy.list(STABLE_EMBEDDINGS).map(this::readStableEmbeddings)
                .orElse(List.of());
        Policy.OnError onError = policy.string(ON_ERROR, Policy.OnError::parse).orElse(Policy.OnError.WARN);
        ReportTarget report = policy.string(REPORT, ReportTarget::parse).orElse(ReportTarget.LOG);
        return new Policy(defaults, rules, stableEmbeddings, onError, report, source);
    }

    private static long supportedVersion(long version) {
        if (version != SUPPORTED_VERSION) {
            throw new IllegalArgumentException("version " + version + " is not supported. "
                    + "Write 'version: " + SUPPORTED_VERSION + "' or leave it out");
        }
        return version;
    }

    /** The settings a mapping (defaults or a rule) gives; the others stay null. */
    private QuantizationSettings readSettings(YamlMapping mapping) {
        return new QuantizationSettings(
                mapping.integer(BITS, QuantizationSettings::validBits).orElse(null),
                mapping.integer(BLOCK_SIZE, QuantizationSettings::validBlockSize).orElse(null),
                mapping.integer(MIN_QUANTIZED_SIZE, QuantizationSettings::validMinQuantizedSize).orElse(null));
    }

    private List<Rule> readRules(List<Node> items) {
        List<Rule> rules = new ArrayList<>();
        for (Node item : items) {
            int number = rules.size() + 1;
            rules.add(readRule(nodes.mapping(item, "rule " + number, PolicyKeys.RULE), number));
        }
        return rules;
    }

    private Rule readRule(YamlMapping rule, int number) {
        Rule.Match match = rule.mapping(MATCH, PolicyKeys.MATCH_CRITERIA).map(this::readMatch).orElse(null);
        QuantizationSettings settings = readSettings(rule);
        OptimizerOverrides overrides = rule.mapping(OPTIMIZER, PolicyKeys.OPTIMIZER_OVERRIDES)
                .map(this::readOverrides)
                .orElse(OptimizerOverrides.NONE);
        Node node = rule.node();
        return nodes.validated(node, () -> new Rule(number, NodeReader.line(node), match, settings, overrides));
    }

    private Rule.Match readMatch(YamlMapping match) {
        NamePattern name = match.pattern(NAME).orElse(null);
        NamePattern layerType = match.pattern(LAYER_TYPE).orElse(null);
        NamePattern optimizer = match.pattern(OPTIMIZER).orElse(null);
        Long minElements = match.integer(MIN_ELEMENTS, count -> Rule.Match.validElementCount(MIN_ELEMENTS, count))
                .orElse(null);
        Long maxElements = match.integer(MAX_ELEMENTS, count -> Rule.Match.validElementCount(MAX_ELEMENTS, count))
                .orElse(null);
        return nodes.validated(match.node(), () -> new Rule.Match(name, layerType, optimizer, minElements, maxElements));
    }

    private OptimizerOverrides readOverrides(YamlMapping optimizer) {
        if (optimizer.isEmpty()) {
            // An empty mapping is most likely a half-written override; say so rather than ignore it.
            throw nodes.error(optimizer.node(), optimizer.description() + " overrides nothing. Give at least one of "
                    + String.join(", ", PolicyKeys.OPTIMIZER_OVERRIDES) + ", or remove it");
        }
        Map<Hyperparameter, Double> values = new EnumMap<>(Hyperparameter.class);
        for (Hyperparameter hyperparameter : Hyperparameter.values()) {
            optimizer.number(hyperparameter.key(), hyperparameter::validate)
                    .ifPresent(value -> values.put(hyperparameter, value));
        }
        return OptimizerOverrides.of(values);
    }

    private List<NamePattern> readStableEmbeddings(List<Node> items) {
        List<NamePattern> patterns = new ArrayList<>();
        for (Node item : items) {
            patterns.add(nodes.pattern(item, "item " + (patterns.size() + 1) + " of '" + STABLE_EMBEDDINGS + "'"));
        }
        return patterns;
    }
}
