package dev.octet.kernels.rules;

/**
 * Lion: direction {@code sign(b1 m + (1-b1) g)}, then {@code m = b2 m + (1-b2) g}; the parameter is
 * first decayed by {@code 1 - lr wd}, then moved by {@code lr * direction}.
 */
public record LionRule(float learningRate, float beta1, float beta2, float weightDecay) implements SignedStatisticRule {

    @Override
    public float decayBefore() {
        return 1f - learningRate * weightDecay;
    }

    /**
     * {@code m = b2 m + (1 - b2) g} is infinite or NaN for every non-finite g, a zero factor included
     * ({@code 0 * inf} is NaN).
     */
    @Override
    public boolean statisticsCarryNonFiniteGradients() {
        return true;
    }

    @Override
    public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
        float[] m = stats[0];
        for (int i = 0; i < n; i++) {
            float g = grad[i];
            direction[i] = Math.signum(m[i] * beta1 + (1f - beta1) * g);
            m[i] = m[i] * beta2 + (1f - beta2) * g;
        }
    }
}
