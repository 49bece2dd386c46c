package dev.octet.policy;

import java.util.Objects;

/**
 * What the policy decided for one parameter.
 *
 * @param bits            8 for block-wise quantized optimizer state, 32 for full precision
 * @param blockSize       elements per quantization block (meaningful when {@code bits} is 8)
 * @param overrides       optimizer hyperparameters to use for this parameter instead of the job's
 * @param stableEmbedding whether the parameter belongs to a layer to turn into a stable embedding
 * @param reason          a short sentence for the start-up report saying which part of the policy
 *                        decided, e.g. {@code rule 2 (line 14: name "dense*_W") -> 32-bit}
 */
public record Decision(int bits, int blockSize, OptimizerOverrides overrides, boolean stableEmbedding, String reason) {

    public Decision {
        QuantizationSettings.validBits(bits);
        QuantizationSettings.validBlockSize(blockSize);
        Objects.requireNonNull(overrides, "overrides");
        Objects.requireNonNull(reason, "reason");
    }

    /** The reason, followed by the optimizer overrides when there are any (the report's "rule" column). */
    public String explanation() {
        return overrides.isEmpty() ? reason : reason + "; optimizer: " + overrides.describe();
    }
}
