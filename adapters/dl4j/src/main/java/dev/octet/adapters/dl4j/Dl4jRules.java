package dev.octet.adapters.dl4j;

import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.UpdateRule;

/**
 * DL4J 1.0.0-M2.1's updater formulas as octet rules, element by element as libnd4j computes them
 * (docs/framework-optimizer-math.md, section A.3). Each rule's direction times its step scale is the
 * update DL4J writes into the gradient. Adam itself uses the kernels' {@code AdamRule}.
 */
final class Dl4jRules {

    private static final StatisticKind[] SIGNED = {StatisticKind.SIGNED};
    private static final StatisticKind[] SIGNED_UNSIGNED = {StatisticKind.SIGNED, StatisticKind.UNSIGNED};
    private static final StatisticKind[] UNSIGNED = {StatisticKind.UNSIGNED};
    private static final StatisticKind[] UNSIGNED_UNSIGNED = {StatisticKind.UNSIGNED, StatisticKind.UNSIGNED};

    private Dl4jRules() {
    }

    /**
     * Nadam: no second-moment correction; the momentum term is corrected by {@code 1 - b1^t}. The
     * whole update is the direction (step scale 1), computed in DL4J's order.
     */
    record Nadam(float beta1, float beta2, float epsilon, float learningRate, float correction1) implements UpdateRule {
        @Override
        public StatisticKind[] statistics() {
            return SIGNED_UNSIGNED.clone();
        }

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

    /** AdaMax: the infinity norm {@code u = max(b2 u, |g|)} (plus 1e-32), no epsilon. */
    record AdaMax(float beta1, float beta2, float stepScale) implements UpdateRule {
        @Override
        public StatisticKind[] statistics() {
            return SIGNED_UNSIGNED.clone();
        }

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

    /** AMSGrad: Adam with the running maximum of the second moment in the denominator. */
    record AmsGrad(float beta1, float beta2, float epsilon, float stepScale) implements UpdateRule {
        @Override
        public StatisticKind[] statistics() {
            return new StatisticKind[] {StatisticKind.SIGNED, StatisticKind.UNSIGNED, StatisticKind.UNSIGNED};
        }

        @Override
        public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
            float[] m = stats[0];
            float[] v = stats[1];
            float[] vMax = stats[2];
            for (int i = 0; i < n; i++) {
                float g = grad[i];
                m[i] = beta1 * m[i] + g * (1f - beta1);
                v[i] = beta2 * v[i] + (g * g) * (1f - beta2);
                vMax[i] = Math.max(vMax[i], v[i]);
                direction[i] = m[i] / ((float) Math.sqrt(vMax[i]) + epsilon);
            }
        }
    }

    /** AdaBelief: the second statistic tracks {@code (g - m)^2} (with the new m) plus epsilon. */
    record AdaBelief(float beta1, float beta2, float epsilon, float stepScale) implements UpdateRule {
        @Override
        public StatisticKind[] statistics() {
            return SIGNED_UNSIGNED.clone();
        }

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

    /**
     * RmsProp ({@code s = decay s + (1 - decay) g^2}) and AdaGrad ({@code s += g^2}, decay 1 and
     * weight 1): direction {@code g / (sqrt(s) + epsilon)}, times the learning rate.
     */
    record SquaredAverage(float decay, float weight, float epsilon, float learningRate) implements UpdateRule {
        @Override
        public StatisticKind[] statistics() {
            return UNSIGNED.clone();
        }

        @Override
        public float stepScale() {
            return learningRate;
        }

        @Override
        public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
            float[] s = stats[0];
            for (int i = 0; i < n; i++) {
                float g = grad[i];
                s[i] = decay == 1f ? s[i] + g * g : s[i] * decay + (g * g) * weight;
                direction[i] = g / ((float) Math.sqrt(s[i]) + epsilon);
            }
        }
    }

    /** AdaDelta: no learning rate; the update's own running square scales the next step. */
    record AdaDelta(float rho, float epsilon) implements UpdateRule {
        @Override
        public StatisticKind[] statistics() {
            return UNSIGNED_UNSIGNED.clone();
        }

        @Override
        public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
            float[] msg = stats[0];
            float[] msdx = stats[1];
            for (int i = 0; i < n; i++) {
                float g = grad[i];
                msg[i] = rho * msg[i] + (g * g) * (1f - rho);
                float update = g * ((float) Math.sqrt(msdx[i] + epsilon) / (float) Math.sqrt(msg[i] + epsilon));
                msdx[i] = rho * msdx[i] + (update * update) * (1f - rho);
                direction[i] = update;
            }
        }
    }

    /** Nesterovs with DL4J's velocity (the learning rate inside it): {@code u = mu v_old - (1 + mu) v_new}. */
    record Nesterovs(float momentum, float learningRate) implements UpdateRule {
        @Override
        public StatisticKind[] statistics() {
            return SIGNED.clone();
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
}
