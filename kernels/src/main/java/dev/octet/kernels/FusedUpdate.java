package dev.octet.kernels;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * One optimizer step over one tensor, one pass over memory per block (docs/technique.md section 4): load the
 * block's parameters, gradient and decoded statistics into local arrays, run the rule, move the
 * parameters with the unquantized new statistics, then re-quantize the statistics with the block's
 * new absmax. Blocks run in parallel on a {@link KernelPool}; nothing is allocated per block.
 *
 * <p><b>Non-finite gradients</b> (as the reference's two-state kernels): an element whose gradient is
 * NaN or infinite has every statistic set to zero and its parameter left untouched (no step, no
 * decay); the other elements of its block update normally. octet applies this to every optimizer.
 *
 * <p><b>8-bit state is never trusted further than the exact rule</b> (see {@link StatisticFloor} and
 * {@link UpdateRule#divides}): decoded statistics get the rule's floor before the step; statistics the
 * rule divides by never round a positive value to zero; and an element whose new statistic overflows
 * (a gradient of 1e30 squared) is treated as a non-finite gradient, since 8 bits cannot hold the
 * infinity a float32 state would: its statistics become zero and its parameter stays. Float32 state
 * keeps the framework's arithmetic exactly and gets none of this.
 *
 * <p>Parameters and gradients are {@link FloatBuffer}s, so a heap array ({@code FloatBuffer.wrap}) and
 * a framework's native memory (a direct buffer in native order) are both used in place.
 */
public final class FusedUpdate {

    static final int MAX_STATISTICS = 3;
    /** Below this many elements a tensor is updated on the calling thread. */
    private static final int MIN_ELEMENTS_PER_TASK = 1 << 15;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    /** Never written: the source of a zeroed gradient block (no block is larger). */
    private static final float[] ZEROS = new float[Math.max(QuantizedState.MAX_BLOCK_SIZE, Float32State.BLOCK)];

    private FusedUpdate() {
    }

    /** Applies one step on the shared pool with default options. */
    public static void apply(FloatBuffer params, FloatBuffer grad, OptimizerState state, UpdateRule rule) {
        apply(params, grad, state, rule, StepOptions.DEFAULT, KernelPool.shared());
    }

    /** Applies one step of {@code rule} to a tensor: {@code params}, {@code grad} and {@code state} align. */
    public static void apply(FloatBuffer params, FloatBuffer grad, OptimizerState state, UpdateRule rule,
            StepOptions options, KernelPool pool) {
        check(params, grad, state, rule);
        Step step = new Step(params, grad, state, rule, options);
        int length = state.length();
        int blockSize = state.blockSize();
        int blocks = (length + blockSize - 1) / blockSize;
        int blocksPerTask = Math.max(1, MIN_ELEMENTS_PER_TASK / blockSize);

        float trust = 1f;
        if (rule.maxUpdateNormRatio() > 0f) {
            // Pass 1 measures ||p|| and ||direction|| without writing anything; pass 2 recomputes the
            // same direction from the same inputs and applies it scaled. No tensor-sized buffer.
            double[] sums = new double[2 * blocks];
            pool.forRanges(blocks, blocksPerTask, (from, to) -> {
                Scratch s = SCRATCH.get().ensure(blockSize);
                for (int b = from; b < to; b++) {
                    measureBlock(step, b, s, sums);
                }
            });
            double paramNormSq = 0;
            double directionNormSq = 0;
            for (int b = 0; b < blocks; b++) {
                paramNormSq += sums[2 * b];
                directionNormSq += sums[2 * b + 1];
            }
            double limit = rule.maxUpdateNormRatio() * Math.sqrt(paramNormSq);
            double norm = Math.sqrt(directionNormSq);
            trust = norm > limit ? (float) (limit / norm) : 1f;
        }
        float stepScale = rule.stepScale() * trust;
        pool.forRanges(blocks, blocksPerTask, (from, to) -> {
            Scratch s = SCRATCH.get().ensure(blockSize);
            for (int b = from; b < to; b++) {
                updateBlock(step, stepScale, b, s);
            }
        });
    }

    private static void check(FloatBuffer params, FloatBuffer grad, OptimizerState state, UpdateRule rule) {
        int length = state.length();
        if (params.capacity() < length || grad.capacity() < length) {
            throw new IllegalArgumentException("params and gradient must hold " + length + " elements");
        }
        if (!Arrays.equals(rule.statistics(), state.kinds())) {
            throw new IllegalArgumentException("the rule keeps " + Arrays.toString(rule.statistics())
                    + " but the state holds " + Arrays.toString(state.kinds()));
        }
    }

    /**
     * Applies one step to each of several tensors ({@code params[t]}, {@code grads[t]}, {@code states[t]}
     * and {@code rules[t]} align): exactly what {@link #apply} does to each, block for block, but as one
     * parallel call over all their blocks. A model of many small tensors then pays one hand-off to the
     * pool per step instead of one per tensor, and its small tensors run in parallel too, where
     * {@link #apply} runs each of them on the calling thread. A rule with a trust ratio
     * ({@link UpdateRule#maxUpdateNormRatio}) needs its tensor's norms first: such tensors go through
     * {@link #apply} one at a time.
     */
    public static void applyAll(FloatBuffer[] params, FloatBuffer[] grads, OptimizerState[] states, UpdateRule[] rules,
            StepOptions options, KernelPool pool) {
        int tensors = states.length;
        if (params.length != tensors || grads.length != tensors || rules.length != tensors) {
            throw new IllegalArgumentException("one parameter buffer, gradient, state and rule per tensor");
        }
        Step[] steps = new Step[tensors];
        // firstBlock[t]: tensor t's first block in the sequence of all the tensors' blocks.
        int[] firstBlock = new int[tensors + 1];
        int count = 0;
        long elements = 0;
        int largestBlock = 0;
        for (int t = 0; t < tensors; t++) {
            OptimizerState state = states[t];
            if (rules[t].maxUpdateNormRatio() > 0f) {
                apply(params[t], grads[t], state, rules[t], options, pool);
                firstBlock[t] = count;
                continue;
            }
            check(params[t], grads[t], state, rules[t]);
            steps[t] = new Step(params[t], grads[t], state, rules[t], options);
            firstBlock[t] = count;
            count += (state.length() + state.blockSize() - 1) / state.blockSize();
            elements += state.length();
            largestBlock = Math.max(largestBlock, state.blockSize());
        }
        firstBlock[tensors] = count;
        int blockSize = largestBlock;
        // Ranges of about equal elements (block sizes differ between tensors), at least MIN_ELEMENTS_PER_TASK each.
        int ranges = (int) Math.min(pool.threads() * 4L, Math.max(1, elements / MIN_ELEMENTS_PER_TASK));
        int[] rangeStart = new int[ranges + 1];
        long done = 0;
        int range = 1;
        for (int t = 0; t < tensors && range < ranges; t++) {
            if (steps[t] == null) {
                continue;
            }
            OptimizerState state = steps[t].state();
            for (int b = 0, n = firstBlock[t + 1] - firstBlock[t]; b < n && range < ranges; b++) {
                done += Math.min(state.blockSize(), state.length() - b * state.blockSize());
                if (done * ranges >= elements * range) {
                    rangeStart[range++] = firstBlock[t] + b + 1;
                }
            }
        }
        for (; range <= ranges; range++) {
            rangeStart[range] = count;
        }
        pool.forRanges(ranges, 1, (from, to) -> {
            Scratch s = SCRATCH.get().ensure(blockSize);
            int end = rangeStart[to];
            int b = rangeStart[from];
            if (b >= end) {
                return;
            }
            // The tensor of block b: the last one starting at or before it (tensors without blocks are skipped).
            int t = Arrays.binarySearch(firstBlock, 0, tensors, b);
            if (t < 0) {
                t = -t - 2;
            }
            while (firstBlock[t + 1] <= b) {
                t++;
            }
            for (; b < end; b++) {
                while (firstBlock[t + 1] <= b) {
                    t++;
                }
                Step step = steps[t];
                updateBlock(step, step.rule().stepScale(), b - firstBlock[t], s);
            }
        });
    }

    /** One step's inputs, and what the state's format asks of it (resolved once per tensor). */
    private record Step(FloatBuffer params, FloatBuffer grad, OptimizerState state, UpdateRule rule,
            StepOptions options, boolean quantized, StatisticFloor floor, boolean[] keepPositive,
            boolean checksGradient) {

        Step(FloatBuffer params, FloatBuffer grad, OptimizerState state, UpdateRule rule, StepOptions options) {
            this(params, grad, state, rule, options, state instanceof QuantizedState,
                    state instanceof QuantizedState ? rule.decodedFloor() : StatisticFloor.NONE,
                    keepPositive(rule, state),
                    // 8-bit state takes its statistics' absmax anyway; that finds a non-finite gradient element
                    // where the rule carries it into a statistic (and no clipping makes it finite first).
                    !(state instanceof QuantizedState && state.statistics() > 0 && rule.statisticsCarryNonFiniteGradients()
                            && options.gradClip() == 0f));
        }

        private static boolean[] keepPositive(UpdateRule rule, OptimizerState state) {
            boolean[] out = new boolean[state.statistics()];
            for (int k = 0; k < out.length; k++) {
                out[k] = rule.divides(k);
            }
            return out;
        }
    }

    /**
     * Loads the block and runs the rule; returns whether any element was skipped (a non-finite gradient
     * or, in 8-bit state, a statistic that overflowed). Leaves each statistic's largest magnitude in
     * {@code s.largest} for the store (8-bit state only).
     */
    private static boolean computeBlock(Step step, int start, int n, Scratch s) {
        OptimizerState state = step.state();
        int statistics = state.statistics();
        step.params().get(start, s.params, 0, n);
        step.grad().get(start, s.grad, 0, n);
        boolean anySkipped = prepareGradient(s.grad, s.nonFinite, n, step.options(), step.checksGradient());
        for (int k = 0; k < statistics; k++) {
            state.load(k, start, n, s.stats[k], s.codes);
        }
        if (step.floor() != StatisticFloor.NONE) {
            step.floor().apply(s.stats[0], s.stats[1], n, ((QuantizedState) state).ordinaryScales(start));
        }
        step.rule().update(s.params, s.grad, s.stats, s.direction, n);
        if (step.quantized()) {
            boolean overflow = false;
            for (int k = 0; k < statistics; k++) {
                s.largest[k] = BlockCodec.largestMagnitude(s.stats[k], n);
                overflow |= !(s.largest[k] <= Float.MAX_VALUE);
            }
            if (overflow) {
                markOverflow(s, statistics, n, anySkipped);
                anySkipped = true;
            }
        }
        if (anySkipped) {
            for (int i = 0; i < n; i++) {
                if (s.nonFinite[i]) {
                    for (int k = 0; k < statistics; k++) {
                        s.stats[k][i] = 0f;
                    }
                    s.direction[i] = 0f;
                }
            }
            if (step.quantized()) {
                for (int k = 0; k < statistics; k++) {
                    s.largest[k] = BlockCodec.largestMagnitude(s.stats[k], n);
                }
            }
        }
        return anySkipped;
    }

    /** Adds the elements with a non-finite new statistic to {@code s.nonFinite} (cleared first if unused). */
    private static void markOverflow(Scratch s, int statistics, int n, boolean inUse) {
        for (int i = 0; i < n; i++) {
            boolean bad = inUse && s.nonFinite[i];
            for (int k = 0; k < statistics; k++) {
                bad |= !Float.isFinite(s.stats[k][i]);
            }
            s.nonFinite[i] = bad;
        }
    }

    private static void updateBlock(Step step, float stepScale, int block, Scratch s) {
        OptimizerState state = step.state();
        UpdateRule rule = step.rule();
        int start = block * state.blockSize();
        int n = Math.min(state.blockSize(), state.length() - start);
        boolean anySkipped = computeBlock(step, start, n, s);
        float before = rule.decayBefore();
        float after = rule.decayAfter();
        float[] p = s.params;
        float[] d = s.direction;
        StepOptions.Output output = step.options().output();
        if (output == StepOptions.Output.APPLY_TO_PARAMS || output == StepOptions.Output.APPLY_TO_PARAMS_ZEROING_GRADIENT) {
            for (int i = 0; i < n; i++) {
                p[i] = (p[i] * before - stepScale * d[i]) * after;
            }
            if (anySkipped) {
                restoreSkipped(step.params(), start, n, s);
            }
            step.params().put(start, p, 0, n);
            if (output == StepOptions.Output.APPLY_TO_PARAMS_ZEROING_GRADIENT) {
                // (A block larger than ZEROS only exists under the ablation's tensor-wise scaling, Experiment.)
                step.grad().put(start, n <= ZEROS.length ? ZEROS : new float[n], 0, n);
            }
        } else {
            // The update to subtract: exactly stepScale * d without decoupled decay, else p_old - p_new.
            float[] update = s.grad;
            if (before == 1f && after == 1f) {
                for (int i = 0; i < n; i++) {
                    update[i] = stepScale * d[i];
                }
            } else {
                for (int i = 0; i < n; i++) {
                    update[i] = p[i] - (p[i] * before - stepScale * d[i]) * after;
                }
            }
            if (anySkipped) {
                for (int i = 0; i < n; i++) {
                    if (s.nonFinite[i]) {
                        update[i] = 0f;
                    }
                }
            }
            step.grad().put(start, update, 0, n);
            if (output == StepOptions.Output.WRITE_UPDATE_TO_GRADIENT_AND_APPLY) {
                for (int i = 0; i < n; i++) {
                    p[i] -= update[i];
                }
                step.params().put(start, p, 0, n);
            }
        }
        for (int k = 0; k < state.statistics(); k++) {
            state.store(k, start, n, s.stats[k], s.largest[k], step.keepPositive()[k], s.codes);
        }
    }

    private static void restoreSkipped(FloatBuffer params, int start, int n, Scratch s) {
        for (int i = 0; i < n; i++) {
            if (s.nonFinite[i]) {
                s.params[i] = params.get(start + i);
            }
        }
    }

    private static void measureBlock(Step step, int block, Scratch s, double[] sums) {
        OptimizerState state = step.state();
        int start = block * state.blockSize();
        int n = Math.min(state.blockSize(), state.length() - start);
        computeBlock(step, start, n, s);
        double paramSq = 0;
        double directionSq = 0;
        for (int i = 0; i < n; i++) {
            paramSq += (double) s.params[i] * s.params[i];
            directionSq += (double) s.direction[i] * s.direction[i];
        }
        sums[2 * block] = paramSq;
        sums[2 * block + 1] = directionSq;
    }

    /**
     * Divides, scales and clips the gradient in place and, where {@code check}, zeroes its non-finite elements
     * (marking them); returns whether there were any.
     */
    private static boolean prepareGradient(float[] g, boolean[] nonFinite, int n, StepOptions options, boolean check) {
        float divisor = options.gradDivisor();
        if (divisor != 1f) {
            for (int i = 0; i < n; i++) {
                g[i] /= divisor; // a division, not a product with 1/divisor: the framework's own values, bit for bit
            }
        }
        float scale = options.gradScale();
        if (scale != 1f) {
            for (int i = 0; i < n; i++) {
                g[i] *= scale;
            }
        }
        // One vectorized max reduction finds out whether this block needs per-element marking at all.
        boolean any = check && !(BlockCodec.largestMagnitude(g, n) <= Float.MAX_VALUE);
        if (any) {
            for (int i = 0; i < n; i++) {
                nonFinite[i] = !Float.isFinite(g[i]);
                if (nonFinite[i]) {
                    g[i] = 0f;
                }
            }
        }
        float clip = options.gradClip();
        if (clip > 0f) {
            for (int i = 0; i < n; i++) {
                g[i] = Math.max(-clip, Math.min(clip, g[i]));
            }
        }
        return any;
    }

    /** Per-thread block arrays, grown to the largest block size seen. */
    private static final class Scratch {
        float[] params = new float[0];
        float[] grad = new float[0];
        float[] direction = new float[0];
        float[][] stats = new float[MAX_STATISTICS][0];
        final float[] largest = new float[MAX_STATISTICS];
        byte[] codes = new byte[0];
        boolean[] nonFinite = new boolean[0];

        Scratch ensure(int size) {
            if (params.length < size) {
                params = new float[size];
                grad = new float[size];
                direction = new float[size];
                for (int k = 0; k < MAX_STATISTICS; k++) {
                    stats[k] = new float[size];
                }
                codes = new byte[size];
                nonFinite = new boolean[size];
            }
            return this;
        }
    }
}
