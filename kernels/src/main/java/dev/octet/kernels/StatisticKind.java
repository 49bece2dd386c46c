package dev.octet.kernels;

/**
 * How an optimizer statistic is stored in 8 bits: which map, and whether its sign must survive rounding.
 *
 * <p>The reference quantizes the first statistic of two-state optimizers (Adam's momentum) on the
 * signed map with the sign fix, the second (Adam's squared average) on the unsigned map, and the only
 * statistic of one-state optimizers (momentum, RMSProp, Adagrad, Lion) on the signed map, even when it
 * is never negative. Parity with the reference needs exactly that choice.
 *
 * <p>Only for the fidelity study's ablation, {@code -Doctet.experiment.map=linear} swaps both maps for
 * evenly spaced ones ({@link Experiment}; not a policy key).
 */
public enum StatisticKind {
    /** Signed dynamic map; a code never takes the other sign than the value (docs/technique.md section 4). */
    SIGNED(Experiment.LINEAR_MAP ? QuantizationMap.linearSigned() : QuantizationMap.dynamicSigned(), true),
    /** Unsigned dynamic map, for statistics that are never negative. */
    UNSIGNED(Experiment.LINEAR_MAP ? QuantizationMap.linearUnsigned() : QuantizationMap.dynamicUnsigned(), false);

    private final QuantizationMap map;
    private final boolean keepsSign;

    StatisticKind(QuantizationMap map, boolean keepsSign) {
        if (keepsSign && !map.canKeepSign()) {
            throw new IllegalStateException(map + " cannot keep signs: it needs +0 with negative entries below");
        }
        this.map = map;
        this.keepsSign = keepsSign;
    }

    public QuantizationMap map() {
        return map;
    }

    public boolean keepsSign() {
        return keepsSign;
    }
}
