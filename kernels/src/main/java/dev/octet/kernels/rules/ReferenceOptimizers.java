package dev.octet.kernels.rules;

import dev.octet.kernels.StatisticFloor;
import dev.octet.kernels.UpdateRule;

/**
 * The optimizers with the conventions of the reference implementation (bitsandbytes' 8-bit
 * block-wise optimizers), step {@code t} counted from 1. Scalars are computed in float32 as it does.
 * Frameworks with other conventions build the rules directly (their adapters do).
 */
public final class ReferenceOptimizers {

    /** The reference's LAMB and LARS trust-ratio bounds ({@code max_unorm}). */
    public static final float LAMB_MAX_UPDATE_NORM_RATIO = 1.0f;
    public static final float LARS_MAX_UPDATE_NORM_RATIO = 0.02f;

    private ReferenceOptimizers() {
    }

    /** Adam; with {@code weightDecay > 0} the reference decays decoupled, after the step (AdamW). */
    public static AdamRule adam(float lr, float beta1, float beta2, float eps, float weightDecay, int step) {
        return adamFamily(lr, beta1, beta2, eps, weightDecay, step, 0f);
    }

    /** AdamW: Adam with decoupled weight decay {@code p *= 1 - lr wd} after the step. */
    public static AdamRule adamW(float lr, float beta1, float beta2, float eps, float weightDecay, int step) {
        return adam(lr, beta1, beta2, eps, weightDecay, step);
    }

    /** LAMB: Adam with the step bounded by the tensor's trust ratio. */
    public static AdamRule lamb(float lr, float beta1, float beta2, float eps, float weightDecay, int step) {
        return adamFamily(lr, beta1, beta2, eps, weightDecay, step, LAMB_MAX_UPDATE_NORM_RATIO);
    }

    private static AdamRule adamFamily(float lr, float beta1, float beta2, float eps, float weightDecay, int step,
            float trustRatio) {
        float correction1 = 1f - (float) Math.pow(beta1, step);
        float correction2 = (float) Math.sqrt(1f - (float) Math.pow(beta2, step));
        float stepScale = lr * correction2 / correction1;
        return new AdamRule(beta1, beta2, eps * correction2, stepScale, 1f - lr * weightDecay, trustRatio,
                StatisticFloor.adam(beta1, beta2, step), false);
    }

    /** SGD with momentum (coupled weight decay, no dampening). */
    public static MomentumRule momentum(float lr, float momentum, float weightDecay, int step, boolean nesterov) {
        return new MomentumRule(lr, momentum, 0f, weightDecay, nesterov, step == 1, 0f);
    }

    /** LARS: momentum with the step bounded by the tensor's trust ratio. */
    public static MomentumRule lars(float lr, float momentum, float weightDecay, int step) {
        return new MomentumRule(lr, momentum, 0f, weightDecay, false, step == 1, LARS_MAX_UPDATE_NORM_RATIO);
    }

    /** RMSProp; as the reference's 8-bit kernel, weight decay feeds the statistic only. */
    public static SquaredAverageRule rmsProp(float lr, float alpha, float eps, float weightDecay) {
        return SquaredAverageRule.rmsProp(lr, alpha, eps, weightDecay, false);
    }

    /** Adagrad; as the reference's 8-bit kernel, weight decay feeds the statistic only. */
    public static SquaredAverageRule adagrad(float lr, float eps, float weightDecay) {
        return SquaredAverageRule.adagrad(lr, eps, weightDecay, false);
    }

    public static LionRule lion(float lr, float beta1, float beta2, float weightDecay) {
        return new LionRule(lr, beta1, beta2, weightDecay);
    }

    /**
     * The rule for an optimizer named as in the reference's files ({@code adam}, {@code adamw},
     * {@code momentum}, {@code rmsprop}, {@code lion}, {@code adagrad}, {@code lamb}, {@code lars}), with
     * its hyperparameters; {@code betas[1]} is unused by one-beta optimizers.
     */
    public static UpdateRule byName(String name, float lr, float[] betas, float eps, float weightDecay, int step) {
        return switch (name) {
            case "adam" -> adam(lr, betas[0], betas[1], eps, weightDecay, step);
            case "adamw" -> adamW(lr, betas[0], betas[1], eps, weightDecay, step);
            case "lamb" -> lamb(lr, betas[0], betas[1], eps, weightDecay, step);
            case "momentum" -> momentum(lr, betas[0], weightDecay, step, false);
            case "lars" -> lars(lr, betas[0], weightDecay, step);
            case "rmsprop" -> rmsProp(lr, betas[0], eps, weightDecay);
            case "adagrad" -> adagrad(lr, eps, weightDecay);
            case "lion" -> lion(lr, betas[0], betas[1], weightDecay);
            default -> throw new IllegalArgumentException("unknown optimizer '" + name
                    + "'; octet knows adam, adamw, lamb, momentum, lars, rmsprop, adagrad, lion");
        };
    }
}
