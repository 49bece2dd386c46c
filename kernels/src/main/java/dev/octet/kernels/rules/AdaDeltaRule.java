package dev.octet.kernels.rules;

import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.UpdateRule;

/**
 * AdaDelta, which has no learning rate: {@code msg = rho msg + (1-rho) g^2}, the update
 * {@code dx = g sqrt(msdx + eps) / sqrt(msg + eps)}, then {@code msdx = rho msdx + (1-rho) dx^2}.
 * The direction is {@code dx} (step scale 1).
 */
public record AdaDeltaRule(float rho, float epsilon) implements UpdateRule {

    private static final StatisticKind[] KINDS = {StatisticKind.UNSIGNED, StatisticKind.UNSIGNED};

    @Override
    public StatisticKind[] statistics() {
        return KINDS.clone();
    }

    /** The squared gradients' average (the denominator); the squared updates' average is a numerator. */
    @Override
    public boolean divides(int statistic) {
        return statistic == 0;
    }

    /**
     * {@code msg = rho msg + (g g)(1 - rho)} is infinite or NaN for every non-finite g, a zero factor included
     * ({@code 0 * inf} is NaN).
     */
    @Override
    public boolean statisticsCarryNonFiniteGradients() {
        return true;
    }

    @Override
    public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
        float[] msg = stats[0];
        float[] msdx = stats[1];
        for (int i = 0; i < n; i++) {
            float g = grad[i];
            msg[i] = rho * msg[i] + (g * g) * (1f - rho);
            float dx = g * ((float) Math.sqrt(msdx[i] + epsilon) / (float) Math.sqrt(msg[i] + epsilon));
            msdx[i] = rho * msdx[i] + (dx * dx) * (1f - rho);
            direction[i] = dx;
        }
    }
}
