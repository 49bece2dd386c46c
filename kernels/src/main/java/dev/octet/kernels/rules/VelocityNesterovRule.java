package dev.octet.kernels.rules;

import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.UpdateRule;

/**
 * Nesterov momentum with the learning rate inside the velocity (the Sutskever form):
 * {@code v' = mu v - lr g}, update {@code mu v - (1 + mu) v'} (to subtract). Step scale 1.
 * {@link MomentumRule} is the other convention, with the learning rate outside.
 */
public record VelocityNesterovRule(float momentum, float learningRate) implements UpdateRule {

    @Override
    public StatisticKind[] statistics() {
        return new StatisticKind[] {StatisticKind.SIGNED};
    }

    /**
     * {@code v = momentum v - lr g} is infinite or NaN for every non-finite g, a zero factor included
     * ({@code 0 * inf} is NaN).
     */
    @Override
    public boolean statisticsCarryNonFiniteGradients() {
        return true;
    }

    @Override
    public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
        float[] v = stats[0];
        float minusMomentumMinusOne = -momentum - 1f;
        for (int i = 0; i < n; i++) {
            float q = momentum * v[i];
            v[i] = q - learningRate * grad[i];
            direction[i] = q + minusMomentumMinusOne * v[i];
        }
    }
}
