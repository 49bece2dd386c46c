package dev.octet.kernels.rules;

import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.UpdateRule;

/**
 * RMSProp and Adagrad, the optimizers that divide by the root of a running sum of squares:
 * {@code s = decay s + weight g^2}, direction {@code g / (sqrt(s) + epsilon)}, times the learning rate.
 * RMSProp is {@code (decay, weight) = (alpha, 1 - alpha)}, Adagrad {@code (1, 1)}.
 *
 * <p>Coupled weight decay {@code g' = g + l2 p} feeds the statistic; whether the direction uses
 * {@code g'} (textbook) or the raw {@code g} (what the reference's 8-bit block-wise kernel does) is
 * {@code l2InDirection}.
 *
 * <p>The step keeps its exact bound by itself: the statistic already holds this step's
 * {@code weight g^2}, so {@code |g| / sqrt(s) <= 1 / sqrt(weight)} however the old statistic was
 * rounded; the rule {@link #divides} its statistic, so 8-bit rounding never takes it to zero.
 *
 * <p>The statistic is non-negative. The reference stores it on the signed map, as it does for every
 * one-state optimizer (its codes are then all at or above the zero code); {@code stored} says which map.
 */
public record SquaredAverageRule(float learningRate, float decay, float weight, float epsilon, float l2,
        boolean l2InDirection, StatisticKind stored) implements UpdateRule {

    public static SquaredAverageRule rmsProp(float learningRate, float alpha, float epsilon, float l2,
            boolean l2InDirection) {
        return new SquaredAverageRule(learningRate, alpha, 1f - alpha, epsilon, l2, l2InDirection, StatisticKind.SIGNED);
    }

    public static SquaredAverageRule adagrad(float learningRate, float epsilon, float l2, boolean l2InDirection) {
        return new SquaredAverageRule(learningRate, 1f, 1f, epsilon, l2, l2InDirection, StatisticKind.SIGNED);
    }

    @Override
    public StatisticKind[] statistics() {
        return new StatisticKind[] {stored};
    }

    @Override
    public boolean divides(int statistic) {
        return true;
    }

    @Override
    public float stepScale() {
        return learningRate;
    }

    /**
     * {@code s = decay s + weight (g g)} (g with its L2 term) is infinite or NaN for every non-finite g, a zero
     * factor included ({@code 0 * inf} is NaN).
     */
    @Override
    public boolean statisticsCarryNonFiniteGradients() {
        return true;
    }

    @Override
    public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
        float[] s = stats[0];
        for (int i = 0; i < n; i++) {
            float raw = grad[i];
            float g = l2 > 0f ? raw + params[i] * l2 : raw;
            s[i] = s[i] * decay + weight * (g * g);
            direction[i] = (l2InDirection ? g : raw) / ((float) Math.sqrt(s[i]) + epsilon);
        }
    }
}
