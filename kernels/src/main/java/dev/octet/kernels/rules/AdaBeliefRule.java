package dev.octet.kernels.rules;

import dev.octet.kernels.StatisticFloor;

/**
 * AdaBelief: the second statistic tracks the "belief" {@code (g - m)^2} (with the new m) plus epsilon,
 * {@code s = b2 s + (1-b2) (g - m)^2 + epsilon}, direction {@code m / (sqrt(s) + epsilon)}, applied
 * times {@code stepScale}.
 *
 * @param decodedFloor {@link StatisticFloor#adaBelief} at this step
 */
public record AdaBeliefRule(float beta1, float beta2, float epsilon, float stepScale, StatisticFloor decodedFloor)
        implements MomentsRule {

    @Override
    public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
        float[] m = stats[0];
        float[] s = stats[1];
        for (int i = 0; i < n; i++) {
            float g = grad[i];
            m[i] = beta1 * m[i] + g * (1f - beta1);
            float belief = g - m[i];
            s[i] = beta2 * s[i] + belief * belief * (1f - beta2) + epsilon;
            direction[i] = m[i] / ((float) Math.sqrt(s[i]) + epsilon);
        }
    }
}
