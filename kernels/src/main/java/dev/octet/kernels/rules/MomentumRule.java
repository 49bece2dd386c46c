package dev.octet.kernels.rules;

/**
 * SGD with momentum: {@code g' = g + l2 p}; {@code m = g'} on the first step, else
 * {@code m = momentum m + (1 - dampening) g'}; direction {@code m}, or {@code g' + momentum m} with
 * Nesterov; applied times the learning rate. (PyTorch's and the reference's convention.)
 *
 * @param maxUpdateNormRatio trust ratio bound (LARS), 0 = none
 */
public record MomentumRule(float learningRate, float momentum, float dampening, float l2, boolean nesterov,
        boolean firstStep, float maxUpdateNormRatio) implements SignedStatisticRule {

    /**
     * {@code m} (g on the first step, else {@code momentum m + (1 - dampening) g}; g with its L2 term) is
     * infinite or NaN for every non-finite g, a zero factor included ({@code 0 * inf} is NaN).
     */
    @Override
    public boolean statisticsCarryNonFiniteGradients() {
        return true;
    }

    @Override
    public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
        float[] m = stats[0];
        float gradWeight = 1f - dampening;
        for (int i = 0; i < n; i++) {
            float g = l2 > 0f ? grad[i] + params[i] * l2 : grad[i];
            m[i] = firstStep ? g : m[i] * momentum + gradWeight * g;
            direction[i] = nesterov ? g + momentum * m[i] : m[i];
        }
    }
}
