package dev.octet.kernels.rules;

import dev.octet.kernels.StatisticFloor;

/**
 * Adam's math for one step: {@code m = b1 m + (1-b1) g}, {@code v = b2 v + (1-b2) g^2}, direction
 * {@code m / (sqrt(v) + epsilon)}, applied times {@code stepScale}.
 *
 * <p>Frameworks differ only in the per-step scalars, which the caller resolves: bias corrections folded
 * into {@code stepScale}, and where epsilon sits. The reference (and PyTorch) add
 * {@code eps * sqrt(1 - b2^t)} to {@code sqrt(v)} (epsilon on the corrected second moment); DL4J adds
 * plain {@code eps}. Decoupled weight decay (AdamW) is {@code decayAfter = 1 - lr * wd}. They also
 * round the squared gradient's term differently: the reference as {@code ((1-b2) g) g}, DL4J as
 * {@code (g g)(1-b2)} ({@code squareFirst}), which overflows to an infinite v (and a frozen parameter)
 * from {@code |g| > 1.8e19} on rather than {@code 5.8e20}.
 *
 * @param beta1 decay of the first moment
 * @param beta2 decay of the second moment
 * @param epsilon added to {@code sqrt(v)}, as it stands in this step
 * @param stepScale multiplies the direction, e.g. {@code lr * sqrt(1 - b2^t) / (1 - b1^t)}
 * @param decayAfter factor on the parameter after the step (1 = none)
 * @param maxUpdateNormRatio trust ratio bound (LAMB), 0 = none
 * @param decodedFloor {@link StatisticFloor#adam} at this step
 * @param squareFirst {@code v = v b2 + (g g)(1-b2)}, DL4J's rounding, instead of the reference's
 */
public record AdamRule(float beta1, float beta2, float epsilon, float stepScale, float decayAfter,
        float maxUpdateNormRatio, StatisticFloor decodedFloor, boolean squareFirst) implements MomentsRule {

    @Override
    public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
        float[] m = stats[0];
        float[] v = stats[1];
        float oneMinusBeta1 = 1f - beta1;
        float oneMinusBeta2 = 1f - beta2;
        if (squareFirst) {
            for (int i = 0; i < n; i++) {
                float g = grad[i];
                m[i] = m[i] * beta1 + oneMinusBeta1 * g;
                v[i] = v[i] * beta2 + (g * g) * oneMinusBeta2;
                direction[i] = m[i] / ((float) Math.sqrt(v[i]) + epsilon);
            }
        } else {
            for (int i = 0; i < n; i++) {
                float g = grad[i];
                m[i] = m[i] * beta1 + oneMinusBeta1 * g;
                v[i] = v[i] * beta2 + oneMinusBeta2 * g * g;
                direction[i] = m[i] / ((float) Math.sqrt(v[i]) + epsilon);
            }
        }
    }
}
