package dev.octet.policy;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The keys a policy file may use, per section: the single place the parser takes them from.
 * Names are camelCase and follow bitsandbytes' vocabulary (see {@link #BITSANDBYTES_NAMES}).
 */
final class PolicyKeys {

    static final String VERSION = "version";
    static final String DEFAULTS = "defaults";
    static final String RULES = "rules";
    static final String STABLE_EMBEDDINGS = "stableEmbeddings";
    static final String ON_ERROR = "onError";
    static final String REPORT = "report";

    /** bitsandbytes' {@code optim_bits}. */
    static final String BITS = "bits";
    /** bitsandbytes' {@code block_size} (also spelled {@code blocksize} there). */
    static final String BLOCK_SIZE = "blockSize";
    /** bitsandbytes' {@code min_8bit_size}. */
    static final String MIN_QUANTIZED_SIZE = "minQuantizedSize";

    static final String MATCH = "match";
    /** In a rule, the overrides mapping; in a match, the criterion on the optimizer's name. */
    static final String OPTIMIZER = "optimizer";

    static final String NAME = "name";
    static final String LAYER_TYPE = "layerType";
    static final String MIN_ELEMENTS = "minElements";
    static final String MAX_ELEMENTS = "maxElements";

    static final List<String> TOP_LEVEL = List.of(VERSION, DEFAULTS, RULES, STABLE_EMBEDDINGS, ON_ERROR, REPORT);
    static final List<String> SETTINGS = List.of(BITS, BLOCK_SIZE, MIN_QUANTIZED_SIZE);
    static final List<String> RULE = Stream.of(List.of(MATCH), SETTINGS, List.of(OPTIMIZER))
            .flatMap(List::stream).toList();
    static final List<String> MATCH_CRITERIA = List.of(NAME, LAYER_TYPE, OPTIMIZER, MIN_ELEMENTS, MAX_ELEMENTS);
    static final List<String> OPTIMIZER_OVERRIDES = Arrays.stream(OptimizerOverrides.Hyperparameter.values())
            .map(OptimizerOverrides.Hyperparameter::key).toList();

    /** bitsandbytes' names for our keys, so that a policy written with them gets a useful hint. */
    static final Map<String, String> BITSANDBYTES_NAMES = Map.of(
            "optim_bits", BITS,
            "block_size", BLOCK_SIZE,
            "blocksize", BLOCK_SIZE,
            "min_8bit_size", MIN_QUANTIZED_SIZE);

    private PolicyKeys() {
    }
}
