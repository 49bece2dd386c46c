package dev.octet.kernels;

import java.util.Locale;

/**
 * Experiment switches for the fidelity study's training ablation (docs/fidelity): they
 * exist only to reproduce the paper's ablation with the same fused update, and are <b>not</b> policy
 * keys nor documented settings for users. Both are read once, from system properties, when the
 * kernels' classes load; the defaults are octet's normal behaviour, unchanged byte for byte.
 *
 * <ul>
 *   <li>{@code -Doctet.experiment.map=linear|dynamic} (default {@code dynamic}): {@code linear} gives
 *       every {@link StatisticKind} an evenly spaced map instead of the dynamic tree map: {@code k/127}
 *       for signed statistics (k = -128..127, so 0 is an entry and the sign fix applies),
 *       {@code k/255} for unsigned ones (k = 0..255), as QuantizationErrorStudy builds them.
 *   <li>{@code -Doctet.experiment.scaling=tensor|block} (default {@code block}): {@code tensor} makes
 *       every {@link QuantizedState} one block covering its whole tensor (one absmax scale per
 *       tensor), whatever block size the policy asked for. The absmax buffers keep the policy's size
 *       (only their first word is used), so layouts and memory reports do not change.
 * </ul>
 */
public final class Experiment {

    public static final String MAP_PROPERTY = "octet.experiment.map";
    public static final String SCALING_PROPERTY = "octet.experiment.scaling";

    /** Whether statistics use the linear maps (experiment only). */
    static final boolean LINEAR_MAP = choice(MAP_PROPERTY, "dynamic", "linear");
    /** Whether every 8-bit state is one block covering its tensor (experiment only). */
    static final boolean TENSOR_SCALING = choice(SCALING_PROPERTY, "block", "tensor");

    private Experiment() {
    }

    /** Empty when both switches are at their defaults, else e.g. "map=linear, scaling=tensor". */
    public static String describe() {
        if (!LINEAR_MAP && !TENSOR_SCALING) {
            return "";
        }
        return "map=" + (LINEAR_MAP ? "linear" : "dynamic") + ", scaling=" + (TENSOR_SCALING ? "tensor" : "block");
    }

    /** The block size a state of {@code length} elements really uses when the policy asks for {@code blockSize}. */
    static int effectiveBlockSize(int length, int blockSize, boolean tensorScaling) {
        return tensorScaling ? Math.max(1, length) : blockSize;
    }

    /** False for the property's default (or no property), true for the alternative; anything else throws. */
    static boolean choice(String property, String standard, String alternative) {
        return parse(property, System.getProperty(property), standard, alternative);
    }

    static boolean parse(String property, String value, String standard, String alternative) {
        if (value == null) {
            return false;
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals(standard)) {
            return false;
        }
        if (v.equals(alternative)) {
            return true;
        }
        throw new IllegalArgumentException("-D" + property + "=" + value + " is not supported. Use " + standard
                + " (the default) or " + alternative);
    }
}
