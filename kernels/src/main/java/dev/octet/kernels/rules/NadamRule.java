package dev.octet.kernels.rules;

import dev.octet.kernels.StatisticFloor;

/**
 * Nadam (Adam with a Nesterov look-ahead on the first moment), in the form that corrects only the
 * momentum term: {@code m = b1 m + (1-b1) g}, {@code v = b2 v + (1-b2) g^2}, direction
 * {@code lr (b1 m + (1-b1) g) / correction1 / (sqrt(v) + epsilon)} with {@code correction1 = 1 - b1^t}.
 * The whole update is the direction (step scale 1). Operation order as DL4J's libnd4j computes it.
 *
 * @param decodedFloor {@link StatisticFloor#adam} at this step
 */
public record NadamRule(float beta1, float beta2, float epsilon, float learningRate, float correction1,
        StatisticFloor decodedFloor) implements MomentsRule {

    @Override
    public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
        float[] m = stats[0];
        float[] v = stats[1];
        for (int i = 0; i < n; i++) {
            float g = grad[i];
            float k = g * (1f - beta1);
            m[i] = beta1 * m[i] + k;
            v[i] = beta2 * v[i] + g * g * (1f - beta2);
            direction[i] = (learningRate * ((m[i] * beta1 + k) / correction1)) / ((float) Math.sqrt(v[i]) + epsilon);
        }
    }
}
