package dev.octet.kernels;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * One optimizer step over one tensor, one pass over memory per block (SPEC section 4): load the
 * block's parameters, gradient and decoded statistics into local arrays, run the rule, move the
 * parameters with the unquantized new statistics, then re-quantize the statistics with the block's
 * new absmax. Blocks run in parallel on a {@link KernelPool}; nothing is allocated per block.
 *
 * <p><b>Non-finite gradients</b> (as the reference's two-state kernels): an element whose gradient is
 * NaN or infinite has every statistic set to zero and its parameter left untouched (no step, no
 * decay); the other elements of its block update normally. octet applies this to every optimizer.
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
        int length = state.length();
        if (params.capacity() < length || grad.capacity() < length) {
            throw new IllegalArgumentException("params and gradient must hold " + length + " elements");
        }
        if (!Arrays.equals(rule.statistics(), state.kinds())) {
            throw new IllegalArgumentException("the rule keeps " + Arrays.toString(rule.statistics())
                    + " but the state holds " + Arrays.toString(state.kinds()));
        }
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
                    measureBlock(params, grad, state, rule, options, b, s, sums);
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
                updateBlock(params, grad, state, rule, options, stepScale, b, s);
            }
        });
    }

    /** Loads the block and runs the rule; returns whether any gradient element was not finite. */
    private static boolean computeBlock(FloatBuffer params, FloatBuffer grad, OptimizerState state,
            UpdateRule rule, StepOptions options, int start, int n, Scratch s) {
        params.get(start, s.params, 0, n);
        grad.get(start, s.grad, 0, n);
        boolean anyNonFinite = prepareGradient(s.grad, s.nonFinite, n, options);
        for (int k = 0; k < state.statistics(); k++) {
            state.load(k, start, n, s.stats[k], s.codes);
        }
        rule.update(s.params, s.grad, s.stats, s.direction, n);
        if (anyNonFinite) {
            for (int i = 0; i < n; i++) {
                if (s.nonFinite[i]) {
                    for (int k = 0; k < state.statistics(); k++) {
                        s.stats[k][i] = 0f;
                    }
                    s.direction[i] = 0f;
                }
            }
        }
        return anyNonFinite;
    }

    private static void updateBlock(FloatBuffer params, FloatBuffer grad, OptimizerState state, UpdateRule rule,
            StepOptions options, float stepScale, int block, Scratch s) {
        int start = block * state.blockSize();
        int n = Math.min(state.blockSize(), state.length() - start);
        boolean anyNonFinite = computeBlock(params, grad, state, rule, options, start, n, s);
        float before = rule.decayBefore();
        float after = rule.decayAfter();
        float[] p = s.params;
        float[] d = s.direction;
        if (options.output() != StepOptions.Output.WRITE_UPDATE_TO_GRADIENT) {
            for (int i = 0; i < n; i++) {
                p[i] = (p[i] * before - stepScale * d[i]) * after;
            }
            if (anyNonFinite) {
                restoreSkipped(params, start, n, s);
            }
            params.put(start, p, 0, n);
            if (options.output() == StepOptions.Output.APPLY_TO_PARAMS_ZEROING_GRADIENT) {
                grad.put(start, ZEROS, 0, n);
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
            if (anyNonFinite) {
                for (int i = 0; i < n; i++) {
                    if (s.nonFinite[i]) {
                        update[i] = 0f;
                    }
                }
            }
            grad.put(start, update, 0, n);
        }
        for (int k = 0; k < state.statistics(); k++) {
            state.store(k, start, n, s.stats[k], s.codes);
        }
    }

    private static void restoreSkipped(FloatBuffer params, int start, int n, Scratch s) {
        for (int i = 0; i < n; i++) {
            if (s.nonFinite[i]) {
                s.params[i] = params.get(start + i);
            }
        }
    }

    private static void measureBlock(FloatBuffer params, FloatBuffer grad, OptimizerState state, UpdateRule rule,
            StepOptions options, int block, Scratch s, double[] sums) {
        int start = block * state.blockSize();
        int n = Math.min(state.blockSize(), state.length() - start);
        computeBlock(params, grad, state, rule, options, start, n, s);
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
     * Scales and clips the gradient in place and zeroes its non-finite elements (marking them);
     * returns whether there were any.
     */
    private static boolean prepareGradient(float[] g, boolean[] nonFinite, int n, StepOptions options) {
        float scale = options.gradScale();
        if (scale != 1f) {
            for (int i = 0; i < n; i++) {
                g[i] *= scale;
            }
        }
        // One vectorized max reduction finds out whether this block needs per-element marking at all.
        boolean any = !(BlockCodec.largestMagnitude(g, n) <= Float.MAX_VALUE);
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
