package dev.octet.kernels.rules;

import dev.octet.kernels.StatisticFloor;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.UpdateRule;

/**
 * AMSGrad: Adam whose denominator uses the running maximum of the second moment,
 * {@code vMax = max(vMax, v)}, direction {@code m / (sqrt(vMax) + epsilon)}, applied times
 * {@code stepScale}. Three statistics: m (signed), v and vMax (unsigned).
 *
 * @param decodedFloor {@link StatisticFloor#adam} at this step
 */
public record AmsGradRule(float beta1, float beta2, float epsilon, float stepScale, StatisticFloor decodedFloor)
        implements UpdateRule {

    private static final StatisticKind[] KINDS = {StatisticKind.SIGNED, StatisticKind.UNSIGNED, StatisticKind.UNSIGNED};

    @Override
    public StatisticKind[] statistics() {
        return KINDS.clone();
    }

    /** The second moment and its running maximum: the denominator and what feeds it. */
    @Override
    public boolean divides(int statistic) {
        return statistic > 0;
    }

    /**
     * {@code m = b1 m + (1 - b1) g} is infinite or NaN for every non-finite g, a zero factor included
     * ({@code 0 * inf} is NaN).
     */
    @Override
    public boolean statisticsCarryNonFiniteGradients() {
        return true;
    }

    @Override
    public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
        float[] m = stats[0];
        float[] v = stats[1];
        float[] vMax = stats[2];
        for (int i = 0; i < n; i++) {
            float g = grad[i];
            m[i] = beta1 * m[i] + g * (1f - beta1);
            v[i] = beta2 * v[i] + (g * g) * (1f - beta2);
            vMax[i] = Math.max(vMax[i], v[i]);
            direction[i] = m[i] / ((float) Math.sqrt(vMax[i]) + epsilon);
        }
    }
}
