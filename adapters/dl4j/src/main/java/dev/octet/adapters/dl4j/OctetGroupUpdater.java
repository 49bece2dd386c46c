package dev.octet.adapters.dl4j;

import dev.octet.adapters.core.PackedStateLayout;
import dev.octet.kernels.FusedUpdate;
import dev.octet.kernels.KernelPool;
import dev.octet.kernels.OptimizerState;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Stands in for DL4J's own updater of one update group: the same formula, with each parameter's
 * statistics stored in DL4J's state view either 8-bit block-wise or as float32, as the policy
 * decided, and each parameter's hyperparameters as DL4J's configuration with the policy's overrides
 * for it. Like DL4J's updaters it writes the update into the gradient; DL4J subtracts it, or, where
 * {@link Dl4jFusedStep} says nothing comes between, this pass subtracts it too and DL4J's step is left out.
 *
 * <p>The view is laid out as {@link PackedStateLayout} says: per statistic, then per parameter, which
 * for a group of float32 parameters is exactly DL4J's own layout.
 */
final class OctetGroupUpdater extends OctetUpdater {

    /** The fused step: {@code params -= update} in this pass where DL4J's step would do only that. */
    static final StepOptions WRITE_AND_APPLY_UPDATE =
            StepOptions.DEFAULT.withOutput(StepOptions.Output.WRITE_UPDATE_TO_GRADIENT_AND_APPLY);

    private final List<Segment> segments = new ArrayList<>();
    /** Whether DL4J adds to this group's update after the updater (weight decay): then its step cannot be fused. */
    private final boolean regularizedAfter;
    /**
     * Whether DL4J's division of this group's gradient by the minibatch can move into this pass: every parameter
     * is divided and nothing reads the divided gradient before the updater (no normalization, no regularization).
     */
    private final boolean divisible;
    /** The host addresses the group's parameters span, [first, end). */
    private final long paramsFirst;
    private final long paramsEnd;
    private final long elements;

    /** One parameter of the group: where its gradient sits in the group's gradient, its state, its rule's slot. */
    private record Segment(FloatBuffer params, int gradientOffset, int length, OptimizerState state, int slot) {
    }

    OctetGroupUpdater(IUpdater config, List<IUpdater> paramConfigs, Dl4jUpdaterMath math, PackedStateLayout.Group group,
            List<INDArray> paramViews, INDArray stateView, boolean initialize, boolean regularizedAfter, boolean divisible) {
        super(config, paramConfigs, math);
        this.regularizedAfter = regularizedAfter;
        this.divisible = divisible;
        long first = Long.MAX_VALUE;
        long end = Long.MIN_VALUE;
        long count = 0;
        for (INDArray view : paramViews) {
            long address = Dl4jFusedStep.address(view);
            first = Math.min(first, address);
            end = Math.max(end, address + 4 * view.length());
            count += view.length();
        }
        this.paramsFirst = first;
        this.paramsEnd = end;
        this.elements = count;
        if (initialize) {
            stateView.assign(0); // all-zero codes and absmax, or float zeros: a fresh state either way
        }
        ByteBuffer view = Dl4jMemory.bytes(stateView.reshape(stateView.length()));
        int gradientOffset = 0;
        for (int j = 0; j < group.params().size(); j++) {
            OptimizerState state = group.state(view, j);
            float initial = initialValue(j);
            if (initialize && initial != 0f) {
                for (int k = 0; k < state.statistics(); k++) {
                    state.fill(k, initial);
                }
            }
            int n = state.length();
            segments.add(new Segment(Dl4jMemory.floats(paramViews.get(j)), gradientOffset, n, state, slots[j]));
            gradientOffset += n;
        }
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        FloatBuffer grad = Dl4jMemory.floats(gradient);
        UpdateRule[] slotRules = rules(iteration, epoch);
        int count = segments.size();
        FloatBuffer[] params = new FloatBuffer[count];
        FloatBuffer[] grads = new FloatBuffer[count];
        OptimizerState[] states = new OptimizerState[count];
        UpdateRule[] rules = new UpdateRule[count];
        for (int j = 0; j < count; j++) {
            Segment s = segments.get(j);
            params[j] = s.params();
            grads[j] = grad.slice(s.gradientOffset(), s.length());
            states[j] = s.state();
            rules[j] = slotRules[s.slot()];
        }
        boolean fused = Dl4jFusedStep.applies();
        // One parallel call for the whole update group: its small tensors share the pool instead of each running alone.
        StepOptions options = WRITE_UPDATE;
        if (fused) {
            float divisor = Dl4jFusedStep.divisor();
            options = divisor == 1f ? WRITE_AND_APPLY_UPDATE : WRITE_AND_APPLY_UPDATE.withGradDivisor(divisor);
        }
        FusedUpdate.applyAll(params, grads, states, rules, options, KernelPool.shared());
        if (fused) {
            Dl4jFusedStep.applied(elements);
        }
    }

    /** Whether this group's step can be fused, for a network whose parameters span host addresses [first, end). */
    boolean fusable(long first, long end) {
        return !regularizedAfter && paramsFirst >= first && paramsEnd <= end;
    }

    /** Whether DL4J's division by the minibatch can move into this group's fused pass. */
    boolean divisible() {
        return divisible;
    }
}
