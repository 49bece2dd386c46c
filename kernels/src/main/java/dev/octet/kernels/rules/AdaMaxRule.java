package dev.octet.kernels.rules;

import dev.octet.kernels.StatisticFloor;

/**
 * AdaMax, Adam with the infinity norm: {@code m = b1 m + (1-b1) g}, {@code u = max(b2 u, |g|) + 1e-32}
 * (the tiny term, added in double, keeps the division finite where there never was a gradient),
 * direction {@code m / u}, applied times {@code stepScale} ({@code lr / (1 - b1^t)}). No epsilon.
 *
 * @param decodedFloor {@link StatisticFloor#adaMax} at this step
 */
public record AdaMaxRule(float beta1, float beta2, float stepScale, StatisticFloor decodedFloor)
        implements MomentsRule {

    @Override
    public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
        float[] m = stats[0];
        float[] u = stats[1];
        for (int i = 0; i < n; i++) {
            float g = grad[i];
            m[i] = beta1 * m[i] + g * (1f - beta1);
            u[i] = (float) (Math.max(beta2 * u[i], Math.abs(g)) + 1e-32);
            direction[i] = m[i] / u[i];
        }
    }
}
