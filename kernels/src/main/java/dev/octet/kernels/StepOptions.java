package dev.octet.kernels;

/**
 * What the fused update does around the rule: gradient division, scaling and clipping, and where the result goes.
 *
 * @param gradDivisor divides the gradient first, exactly ({@code g / gradDivisor} in float: DL4J's division by
 *     the minibatch, done in the update's pass instead of a pass of its own); 1 = none
 * @param gradScale multiplies the gradient next (a framework's rescale, a global-norm scale); 1 = none
 * @param gradClip clamps each scaled gradient element to {@code [-gradClip, gradClip]}; 0 = none
 * @param output whether to move the parameters or to write the update into the gradient buffer
 */
public record StepOptions(float gradDivisor, float gradScale, float gradClip, Output output) {

    public static final StepOptions DEFAULT = new StepOptions(1f, 1f, 0f, Output.APPLY_TO_PARAMS);

    public StepOptions {
        if (!(gradDivisor > 0f) || !Float.isFinite(gradDivisor)) {
            throw new IllegalArgumentException("gradDivisor must be finite and > 0, got " + gradDivisor);
        }
        if (!(gradScale > 0f) || !Float.isFinite(gradScale)) {
            throw new IllegalArgumentException("gradScale must be finite and > 0, got " + gradScale);
        }
        if (!(gradClip >= 0f)) {
            throw new IllegalArgumentException("gradClip must be >= 0 (0 = no clipping), got " + gradClip);
        }
    }

    public StepOptions withGradDivisor(float divisor) {
        return new StepOptions(divisor, gradScale, gradClip, output);
    }

    public StepOptions withGradScale(float scale) {
        return new StepOptions(gradDivisor, scale, gradClip, output);
    }

    public StepOptions withGradClip(float clip) {
        return new StepOptions(gradDivisor, gradScale, clip, output);
    }

    public StepOptions withOutput(Output out) {
        return new StepOptions(gradDivisor, gradScale, gradClip, out);
    }

    /** Where a step's result goes. */
    public enum Output {
        /** Parameters are moved in place (the reference). */
        APPLY_TO_PARAMS,
        /**
         * Parameters are moved in place and the gradient is zeroed in the same pass, while its block is
         * still in cache (DJL's PyTorch engine expects a zero gradient after every update).
         */
        APPLY_TO_PARAMS_ZEROING_GRADIENT,
        /**
         * Parameters are left alone and the gradient buffer receives the update to subtract
         * ({@code p_old - p_new}), as DL4J's updaters do before its step function applies it.
         */
        WRITE_UPDATE_TO_GRADIENT,
        /**
         * As {@link #WRITE_UPDATE_TO_GRADIENT}, and the parameters then lose that update in the same pass
         * ({@code p - u}, in float, exactly what DL4J's step function computes), so that DL4J's own second
         * pass over parameters and update can be left out.
         */
        WRITE_UPDATE_TO_GRADIENT_AND_APPLY
    }
}
