package dev.octet.adapters.djl;

import dev.octet.kernels.StatisticFloor;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.UpdateRule;

/**
 * DJL 0.35.1's optimizer formulas as octet rules, element by element in DJL's order
 * (docs/framework-optimizer-math.md, section B). Each rule does DJL's own gradient preparation
 * (rescale, then its clip, then coupled weight decay where DJL has one) itself, because DJL's clip is
 * not the kernels' two-sided clip everywhere: the PyTorch engine's Adam, AdamW and Sgd clamp from above
 * only. The fused update is called with default options (no scale, no clip) for every rule.
 *
 * <p>Adam, AdamW and Sgd follow the PyTorch engine's native code; Nag, RmsProp, Adagrad and Adadelta,
 * which the PyTorch engine does not implement, follow the formulas DJL defines for them (its MXNet
 * engine's kernels and its own Java for Adadelta).
 */
final class DjlRules {

    private static final StatisticKind[] SIGNED = {StatisticKind.SIGNED};
    private static final StatisticKind[] UNSIGNED = {StatisticKind.UNSIGNED};
    private static final StatisticKind[] SIGNED_UNSIGNED = {StatisticKind.SIGNED, StatisticKind.UNSIGNED};
    private static final StatisticKind[] UNSIGNED_UNSIGNED = {StatisticKind.UNSIGNED, StatisticKind.UNSIGNED};
    private static final StatisticKind[] CENTERED = {StatisticKind.UNSIGNED, StatisticKind.SIGNED, StatisticKind.SIGNED};

    private DjlRules() {
    }

    /**
     * The gradient as DJL prepares it: times {@code rescale} (when not 1), then clipped when
     * {@code clip} is on. {@code oneSided}: the PyTorch engine's {@code clamp_max} (upper bound only,
     * on when {@code clip >= 0}); otherwise MXNet's two-sided clip (on when {@code clip >= 0}, or
     * {@code > 0} for Adadelta, whose rule passes {@code clip <= 0 ? -1 : clip}).
     */
    record Prep(float rescale, float clip, boolean oneSided) {

        float apply(float raw) {
            float g = rescale != 1f ? raw * rescale : raw;
            if (clip >= 0f) {
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
    record Adam(Prep prep, float beta1, float beta2, float epsilon, float lambda, float weightDecay,
            float decoupledLearningRate, float decoupledWeightDecay, StatisticFloor decodedFloor) implements UpdateRule {

        static Adam adam(Prep prep, float beta1, float beta2, float epsilon, float lambda, float weightDecay, int t) {
            return new Adam(prep, beta1, beta2, epsilon, lambda, weightDecay, 0f, 0f, StatisticFloor.adam(beta1, beta2, t));
        }

        static Adam adamW(Prep prep, float beta1, float beta2, float epsilon, float lambda, float learningRate,
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
    record Sgd(Prep prep, float learningRate, float weightDecay, float momentum) implements UpdateRule {
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
    record Nag(Prep prep, float learningRate, float weightDecay, float momentum) implements UpdateRule {
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
    record RmsProp(Prep prep, float learningRate, float weightDecay, float rho, float epsilon) implements UpdateRule {
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
    record CenteredRmsProp(Prep prep, float learningRate, float weightDecay, float rho, float momentum, float epsilon)
            implements UpdateRule {
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
    record Adagrad(Prep prep, float learningRate, float weightDecay, float epsilon) implements UpdateRule {
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
    record Adadelta(Prep prep, float weightDecay, float rho, float epsilon) implements UpdateRule {
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
