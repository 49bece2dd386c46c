package dev.octet.kernels;

/**
 * The math of one optimizer for one step, applied to a block of elements in local float arrays.
 *
 * <p>A rule is a value for one step: learning rate, bias corrections and any schedule are resolved by
 * whoever builds it (an adapter keeps its framework's conventions that way), so the block loop only
 * does arithmetic. The fused update owns memory, quantization, non-finite gradients and threading;
 * a rule only turns (parameters, gradient, old statistics) into (new statistics, direction). The
 * parameter then moves as {@code p = (p * decayBefore() - stepScale() * direction) * decayAfter()}.
 */
public interface UpdateRule {

    /** The statistics the rule keeps, in order, with how each is stored in 8 bits. */
    StatisticKind[] statistics();

    /**
     * Updates {@code stats[k][0..n)} in place and writes the update direction to {@code direction[0..n)}.
     *
     * @param params the block's parameters (read only)
     * @param grad the block's gradient after scaling and clipping (non-finite elements already zeroed, but
     *     where {@link #statisticsCarryNonFiniteGradients} lets an 8-bit step leave them in)
     */
    void update(float[] params, float[] grad, float[][] stats, float[] direction, int n);

    /**
     * Whether a non-finite gradient element always makes one of the element's new statistics non-finite,
     * whatever its (finite) old statistics. An 8-bit step then need not look at the gradient before the rule:
     * the absmax of the new statistics, which it takes anyway, finds such an element, which is then skipped
     * as a non-finite gradient's element is (its statistics zeroed, its parameter left). One pass over the
     * block fewer. Not where the gradient is clipped: clipping would make an infinite element finite.
     */
    default boolean statisticsCarryNonFiniteGradients() {
        return false;
    }

    /**
     * Whether the rule divides by (a root of) this statistic. Stored 8-bit, a positive value of such a
     * statistic never rounds to the zero code but to the smallest code above it: of all roundings, only
     * the one to zero has an unbounded error in {@code 1 / sqrt(v)}, and the value it stands for is
     * then at least the true one, so the step is at most the exact one (given the other statistics).
     * The reference rounds to nearest here; the conformance runner reports each code this changes.
     */
    default boolean divides(int statistic) {
        return false;
    }

    /**
     * The bound the exact rule keeps on its second statistic given its first, restored on statistics
     * decoded from 8 bits before each step (never on float32 state, which keeps the framework's own
     * arithmetic bit for bit). {@link StatisticFloor#NONE} where the rule needs none.
     */
    default StatisticFloor decodedFloor() {
        return StatisticFloor.NONE;
    }

    /** Multiplies the direction when it is applied (the learning rate and corrections, typically). */
    default float stepScale() {
        return 1f;
    }

    /** Factor on the parameter before the step (decoupled weight decay in Lion's order). */
    default float decayBefore() {
        return 1f;
    }

    /** Factor on the parameter after the step (decoupled weight decay in AdamW's order). */
    default float decayAfter() {
        return 1f;
    }

    /**
     * When {@code > 0}, the step over the whole tensor is scaled by
     * {@code min(1, ratio * ||p|| / ||direction||)}: the trust ratio of LAMB and LARS (the reference
     * uses 1.0 and 0.02). It costs a second pass: the norms are needed before any parameter moves.
     */
    default float maxUpdateNormRatio() {
        return 0f;
    }
}
