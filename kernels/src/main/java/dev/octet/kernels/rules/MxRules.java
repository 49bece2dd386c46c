package dev.octet.kernels.rules;

import dev.octet.kernels.StatisticFloor;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.UpdateRule;

/**
 * The optimizer operators of the MXNet convention, element by element in their order
 * (docs/framework-optimizer-math.md, section B): each rule prepares the gradient itself (rescale, then a
 * clip that is two-sided or, as PyTorch's {@code clamp_max}, upper only, then coupled weight decay where
 * the formula has one), so the fused update runs them with default options (no scale, no clip). The
 * learning rate sits inside the statistics or the direction, and the parameter moves by the direction
 * itself ({@link UpdateRule#stepScale} 1).
 *
 * <p>DJL defines its optimizers by these formulas: Adam, AdamW and Sgd as its PyTorch engine's native
 * code computes them, Nag, RmsProp, Adagrad and Adadelta as its MXNet kernels and its own Java do. The
 * CUDA kernels have each of them ({@code octet_mx_*} in {@code octet_kernels.cu}), with the same
 * rounding.
 */
public final class MxRules {

    private static final StatisticKind[] SIGNED = {StatisticKind.SIGNED};
    private static final StatisticKind[] UNSIGNED = {StatisticKind.UNSIGNED};
    private static final StatisticKind[] SIGNED_UNSIGNED = {StatisticKind.SIGNED, StatisticKind.UNSIGNED};
    private static final StatisticKind[] UNSIGNED_UNSIGNED = {StatisticKind.UNSIGNED, StatisticKind.UNSIGNED};
    private static final StatisticKind[] CENTERED = {StatisticKind.UNSIGNED, StatisticKind.SIGNED, StatisticKind.SIGNED};

    private MxRules() {
    }

    /**
     * A rule that prepares the raw gradient itself ({@link Prep}). Its first statistic carries the prepared
     * gradient, so where nothing is clipped a non-finite element reaches it.
     */
    interface PreparingRule extends UpdateRule {

        Prep prep();

        @Override
        default boolean statisticsCarryNonFiniteGradients() {
            return !prep().clips();
        }
    }

    /**
     * The gradient as DJL prepares it: times {@code rescale} (when not 1), then clipped when
     * {@code clip} is on. {@code oneSided}: the PyTorch engine's {@code clamp_max} (upper bound only,
     * on when {@code clip >= 0}); otherwise MXNet's two-sided clip (on when {@code clip >= 0}, or
     * {@code > 0} for Adadelta, whose rule passes {@code clip <= 0 ? -1 : clip}).
     */
    public record Prep(float rescale, float clip, boolean oneSided) {

        /** Whether the gradient is clipped (which would make an infinite element finite). */
        public boolean clips() {
            return clip >= 0f;
        }

        public float apply(float raw) {
            float g = rescale != 1f ? raw * rescale : raw;
            if (clips()) {
                g = oneSided ? Math.min(g, clip) : Math.max(-clip, Math.min(clip, g));
            }
            return g;
        }
    }

    /**
     * Adam and AdamW as the PyTorch engine's {@code adamUpdate}: Adam adds {@code wd * w} to the
     * clipped gradient; AdamW first decays the weight, {@code w -= (w * lr) * wd}, rounded as DJL rounds
     * it. Then {@code m = m b1 + (1 - b1) g}, {@code v = v b2 + ((1 - b2) g) g},
     * {@code w -= (m * lambda) / (sqrt(v) + eps)} with {@code lambda = lr sqrt(1 - b2^t) / (1 - b1^t)}.
     *
     * <p>AdamW's two roundings of the weight are kept: the direction is {@code w - w_new} with
     * {@code w_new} computed as DJL does, and the kernel's {@code w - direction} gives back exactly
     * {@code w_new} (Sterbenz: {@code w_new} is within a factor of two of {@code w} unless the step is as
     * large as the weight itself).
     */
    public record Adam(Prep prep, float beta1, float beta2, float epsilon, float lambda, float weightDecay,
            float decoupledLearningRate, float decoupledWeightDecay, StatisticFloor decodedFloor)
            implements PreparingRule {

        public static Adam adam(Prep prep, float beta1, float beta2, float epsilon, float lambda, float weightDecay, int t) {
            return new Adam(prep, beta1, beta2, epsilon, lambda, weightDecay, 0f, 0f, StatisticFloor.adam(beta1, beta2, t));
        }

        public static Adam adamW(Prep prep, float beta1, float beta2, float epsilon, float lambda, float learningRate,
                float weightDecay, int t) {
            return new Adam(prep, beta1, beta2, epsilon, lambda, 0f, learningRate, weightDecay,
                    StatisticFloor.adam(beta1, beta2, t));
        }

        @Override
        public StatisticKind[] statistics() {
            return SIGNED_UNSIGNED.clone();
        }

        @Override
        public boolean divides(int statistic) {
            return statistic == 1;
        }

        @Override
        public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
            float[] m = stats[0];
            float[] v = stats[1];
            float oneMinusBeta1 = 1f - beta1;
            float oneMinusBeta2 = 1f - beta2;
            boolean decoupled = decoupledWeightDecay != 0f;
            for (int i = 0; i < n; i++) {
                float g = prep.apply(grad[i]);
                if (weightDecay != 0f) {
                    g = g + weightDecay * params[i];
                }
                m[i] = m[i] * beta1 + oneMinusBeta1 * g;
                v[i] = v[i] * beta2 + (oneMinusBeta2 * g) * g;
                float step = (m[i] * lambda) / ((float) Math.sqrt(v[i]) + epsilon);
                if (decoupled) {
                    float w = params[i];
                    float decayed = w - (w * decoupledLearningRate) * decoupledWeightDecay;
                    direction[i] = w - (decayed - step);
                } else {
                    direction[i] = step;
                }
            }
        }
    }

    /**
     * Sgd with momentum as the PyTorch engine's {@code sgdUpdate}: {@code g = (g + wd w) lr} (the
     * learning rate inside the momentum, MXNet's convention), {@code s = s mu + g}, {@code w -= s}.
     */
    public record Sgd(Prep prep, float learningRate, float weightDecay, float momentum) implements PreparingRule {
        @Override
        public StatisticKind[] statistics() {
            return SIGNED.clone();
        }

        @Override
        public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
            float[] s = stats[0];
            for (int i = 0; i < n; i++) {
                float g = (prep.apply(grad[i]) + weightDecay * params[i]) * learningRate;
                s[i] = s[i] * momentum + g;
                direction[i] = s[i];
            }
        }
    }

    /**
     * Nag as DJL defines it ({@code nag_mom_update}): {@code g = clip(rescale g) + wd w},
     * {@code mom = mu mom - lr g}, {@code w += mu mom - lr g} (the direction is its negative).
     */
    public record Nag(Prep prep, float learningRate, float weightDecay, float momentum) implements PreparingRule {
        @Override
        public StatisticKind[] statistics() {
            return SIGNED.clone();
        }

        @Override
        public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
            float[] mom = stats[0];
            for (int i = 0; i < n; i++) {
                float g = prep.apply(grad[i]) + weightDecay * params[i];
                mom[i] = momentum * mom[i] - learningRate * g;
                direction[i] = -(momentum * mom[i] - learningRate * g);
            }
        }
    }

    /**
     * RmsProp, not centered, as DJL defines it ({@code rmsprop_update}): weight decay first, then the
     * clip: {@code g = clip(rescale g + wd w)}, {@code n = (1 - rho) g^2 + rho n},
     * {@code w -= lr g / sqrt(n + eps)} (epsilon inside the root).
     */
    public record RmsProp(Prep prep, float learningRate, float weightDecay, float rho, float epsilon)
            implements PreparingRule {
        @Override
        public StatisticKind[] statistics() {
            return UNSIGNED.clone();
        }

        @Override
        public boolean divides(int statistic) {
            return statistic == 0;
        }

        @Override
        public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
            float[] mean = stats[0];
            Prep scaleOnly = new Prep(prep.rescale(), -1f, false);
            Prep clipOnly = new Prep(1f, prep.clip(), false);
            for (int i = 0; i < n; i++) {
                float g = clipOnly.apply(scaleOnly.apply(grad[i]) + weightDecay * params[i]);
                mean[i] = (1f - rho) * g * g + rho * mean[i];
                direction[i] = learningRate * (g / (float) Math.sqrt(mean[i] + epsilon));
            }
        }
    }

    /**
     * RmsProp, centered, as DJL defines it ({@code rmspropalex_update}): with {@code g} as above,
     * {@code n = (1 - rho) g^2 + rho n}, {@code gbar = (1 - rho) g + rho gbar},
     * {@code delta = mu delta - lr g / sqrt(n - gbar^2 + eps)}, {@code w += delta}. With 8-bit state,
     * {@code n - gbar^2} (never negative in exact arithmetic) is held at zero or above so that rounding
     * of the two statistics cannot take the root of a negative number.
     */
    public record CenteredRmsProp(Prep prep, float learningRate, float weightDecay, float rho, float momentum, float epsilon)
            implements PreparingRule {
        @Override
        public StatisticKind[] statistics() {
            return CENTERED.clone();
        }

        @Override
        public boolean divides(int statistic) {
            return statistic == 0;
        }

        @Override
        public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
            float[] mean = stats[0];
            float[] gbar = stats[1];
            float[] delta = stats[2];
            Prep scaleOnly = new Prep(prep.rescale(), -1f, false);
            Prep clipOnly = new Prep(1f, prep.clip(), false);
            for (int i = 0; i < n; i++) {
                float g = clipOnly.apply(scaleOnly.apply(grad[i]) + weightDecay * params[i]);
                mean[i] = (1f - rho) * g * g + rho * mean[i];
                gbar[i] = (1f - rho) * g + rho * gbar[i];
                float variance = Math.max(0f, mean[i] - gbar[i] * gbar[i]);
                delta[i] = momentum * delta[i] - learningRate * (g / (float) Math.sqrt(variance + epsilon));
                direction[i] = -delta[i];
            }
        }
    }

    /**
     * Adagrad as DJL defines it ({@code adagrad_update}): {@code g = clip(rescale g) + wd w} (DJL's MXNet
     * kernel refuses a weight decay; octet applies it as coupled decay), {@code h += g^2},
     * {@code w -= (g / sqrt(h + eps)) lr}.
     */
    public record Adagrad(Prep prep, float learningRate, float weightDecay, float epsilon) implements PreparingRule {
        @Override
        public StatisticKind[] statistics() {
            return UNSIGNED.clone();
        }

        @Override
        public boolean divides(int statistic) {
            return statistic == 0;
        }

        @Override
        public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
            float[] h = stats[0];
            for (int i = 0; i < n; i++) {
                float g = prep.apply(grad[i]) + weightDecay * params[i];
                h[i] = h[i] + g * g;
                direction[i] = (g / (float) Math.sqrt(h[i] + epsilon)) * learningRate;
            }
        }
    }

    /**
     * Adadelta as DJL composes it (no learning rate): {@code g = clip(rescale g) + wd w} (clip only when
     * {@code > 0}), {@code s = rho s + (1 - rho) g^2}, {@code dw = sqrt(d + eps) / sqrt(s + eps) g},
     * {@code d = rho d + (1 - rho) dw^2}, {@code w -= dw}.
     */
    public record Adadelta(Prep prep, float weightDecay, float rho, float epsilon) implements PreparingRule {
        @Override
        public StatisticKind[] statistics() {
            return UNSIGNED_UNSIGNED.clone();
        }

        @Override
        public boolean divides(int statistic) {
            return statistic == 0;
        }

        @Override
        public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
            float[] s = stats[0];
            float[] d = stats[1];
            for (int i = 0; i < n; i++) {
                float g = prep.apply(grad[i]) + params[i] * weightDecay;
                s[i] = rho * s[i] + (1f - rho) * g * g;
                float dw = (float) Math.sqrt(d[i] + epsilon) / (float) Math.sqrt(s[i] + epsilon) * g;
                d[i] = rho * d[i] + (1f - rho) * dw * dw;
                direction[i] = dw;
            }
        }
    }
}
