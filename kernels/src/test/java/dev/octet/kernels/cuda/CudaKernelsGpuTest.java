package dev.octet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.octet.kernels.BlockwiseQuantizer;
import dev.octet.kernels.Float32State;
import dev.octet.kernels.FusedUpdate;
import dev.octet.kernels.KernelPool;
import dev.octet.kernels.OptimizerState;
import dev.octet.kernels.QuantizationMap;
import dev.octet.kernels.QuantizedState;
import dev.octet.kernels.StatisticFloor;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import dev.octet.kernels.rules.AdaBeliefRule;
import dev.octet.kernels.rules.AdaDeltaRule;
import dev.octet.kernels.rules.AdaMaxRule;
import dev.octet.kernels.rules.AdamRule;
import dev.octet.kernels.rules.AmsGradRule;
import dev.octet.kernels.rules.MomentumRule;
import dev.octet.kernels.rules.MxRules;
import dev.octet.kernels.rules.NadamRule;
import dev.octet.kernels.rules.ReferenceOptimizers;
import dev.octet.kernels.rules.SquaredAverageRule;
import dev.octet.kernels.rules.VelocityNesterovRule;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CUDA kernels against the CPU kernels on random inputs of many sizes (multiples of the block and
 * not), every optimizer, every output (parameters moved, the update into the gradient, parameters
 * moved and the gradient zeroed), gradient scaling and clipping, non-finite gradients, many tensors
 * in one launch, unaligned tensors, float32 state beside 8-bit state in one group. The bar: codes
 * identical or at most one apart, absmax, parameters and float32 statistics within 1e-6 relative (the
 * kernels are written to agree bit for bit; the counts printed show it).
 *
 * <p>Needs a GPU: without one (CI) every test is skipped, with the reason printed.
 */
class CudaKernelsGpuTest {

    private static CudaBackend cuda;
    private static long stream;
    private static final KernelPool POOL = KernelPool.shared();
    private static final int[] SIZES = {1, 7, 255, 256, 257, 1000, 4099, 65536, 100_003};
    private static final int[] BLOCKS = {64, 256, 1024, 4096};

    private static long codesCompared;
    private static long codesDiffering;

    @BeforeAll
    static void gpu() {
        String reason = Cuda.unavailableReason();
        if (reason != null) {
            System.err.println("[octet] CUDA tests skipped: " + reason);
            return;
        }
        cuda = CudaBackend.get();
        stream = cuda.createStream();
        System.err.println("[octet] CUDA tests on " + cuda.description());
    }

    @BeforeEach
    void needsGpu() {
        assumeTrue(cuda != null, () -> "skipped, needs a GPU: " + Cuda.unavailableReason());
    }

    /** The rules under test, per step t (from 1). */
    private static List<IntFunction<UpdateRule>> rules() {
        float[] betas = {0.9f, 0.995f};
        List<IntFunction<UpdateRule>> r = new ArrayList<>();
        for (String name : new String[] {"adam", "adamw", "lamb", "momentum", "lars", "rmsprop", "adagrad", "lion"}) {
            float wd = name.equals("adam") ? 0f : 0.01f;
            r.add(t -> ReferenceOptimizers.byName(name, 1e-3f, betas, 1e-8f, wd, t));
        }
        r.add(t -> ReferenceOptimizers.momentum(1e-2f, 0.9f, 0f, t, true));                      // Nesterov
        r.add(t -> new MomentumRule(1e-2f, 0.9f, 0.1f, 1e-3f, false, t == 1, 0f));                   // dampening
        r.add(t -> SquaredAverageRule.rmsProp(1e-3f, 0.99f, 1e-8f, 1e-2f, true));                    // l2 in direction
        // The rules with DL4J's formulas (dev.octet.adapters.dl4j.Dl4jUpdaterMath builds them so).
        r.add(t -> new AdamRule(0.9f, 0.999f, 1e-8f, 1e-3f * (float) Math.sqrt(1 - Math.pow(0.999, t))
                / (float) (1 - Math.pow(0.9, t)), 1f, 0f, StatisticFloor.adam(0.9, 0.999, t), true));
        r.add(t -> new NadamRule(0.9f, 0.999f, 1e-8f, 1e-3f, (float) (1.0 - Math.pow(0.9f, t)),
                StatisticFloor.adam(0.9, 0.999, t)));
        r.add(t -> new AdaMaxRule(0.9f, 0.999f, 2e-3f / (float) (1.0 - Math.pow(0.9f, t)),
                StatisticFloor.adaMax(0.9, 0.999, t)));
        r.add(t -> new AmsGradRule(0.9f, 0.999f, 1e-8f, 1e-3f, StatisticFloor.adam(0.9, 0.999, t)));
        r.add(t -> new AdaBeliefRule(0.9f, 0.999f, 1e-14f, 1e-3f, StatisticFloor.adaBelief(0.999, 1e-14, t)));
        r.add(t -> new AdaDeltaRule(0.95f, 1e-6f));
        r.add(t -> new VelocityNesterovRule(0.9f, 0.1f));
        r.add(t -> new SquaredAverageRule(1e-3f, 0.95f, 0.05f, 1e-8f, 0f, false, StatisticKind.UNSIGNED));
        r.add(t -> new SquaredAverageRule(1e-2f, 1f, 1f, 1e-6f, 0f, false, StatisticKind.UNSIGNED));
        // The MXNet convention's operators (DJL's optimizers), with their own rescale, clip and decays.
        MxRules.Prep upperClip = new MxRules.Prep(0.5f, 0.02f, true);
        MxRules.Prep twoSided = new MxRules.Prep(1f, 0.02f, false);
        MxRules.Prep none = new MxRules.Prep(1f, -1f, false);
        r.add(t -> MxRules.Adam.adam(upperClip, 0.9f, 0.999f, 1e-8f, mxLambda(t), 1e-2f, t));
        r.add(t -> MxRules.Adam.adamW(none, 0.9f, 0.999f, 1e-8f, mxLambda(t), 1e-3f, 1e-2f, t));
        r.add(t -> new MxRules.Sgd(upperClip, 1e-2f, 1e-4f, 0.9f));
        r.add(t -> new MxRules.Nag(twoSided, 1e-2f, 1e-4f, 0.9f));
        r.add(t -> new MxRules.RmsProp(twoSided, 1e-3f, 1e-4f, 0.9f, 1e-8f));
        r.add(t -> new MxRules.CenteredRmsProp(none, 1e-3f, 1e-4f, 0.9f, 0.9f, 1e-8f));
        r.add(t -> new MxRules.Adagrad(twoSided, 1e-2f, 1e-4f, 1e-7f));
        r.add(t -> new MxRules.Adadelta(none, 1e-4f, 0.9f, 1e-6f));
        return r;
    }

    private static float mxLambda(int t) {
        return (float) (1e-3 * Math.sqrt(1 - Math.pow(0.999, t)) / (1 - Math.pow(0.9, t)));
    }

    private static float[] random(Random rnd, int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * scale * (rnd.nextInt(50) == 0 ? 100 : 1));
        }
        return x;
    }

    @Test
    void quantizeAndDequantizeMatchTheCpu() {
        Random rnd = new Random(1);
        for (QuantizationMap map : new QuantizationMap[] {QuantizationMap.dynamicSigned(), QuantizationMap.dynamicUnsigned()}) {
            for (int blockSize : BLOCKS) {
                for (int n : SIZES) {
                    float[] x = random(rnd, n, 1f);
                    if (n > 300) {
                        x[3] = Float.NaN;                       // a block with NaN
                        x[n - 2] = Float.NEGATIVE_INFINITY;     // and one with an infinity
                        x[n / 2] = Float.MIN_VALUE;             // a denormal
                    }
                    if (n > 2 * blockSize) {
                        java.util.Arrays.fill(x, blockSize, 2 * blockSize, 0f);  // a block of zeros
                    }
                    if (map == QuantizationMap.dynamicUnsigned()) {
                        for (int i = 0; i < n; i++) {
                            x[i] = Math.abs(x[i]);
                        }
                    }
                    var cpu = new BlockwiseQuantizer(map, blockSize, POOL);
                    byte[] codes = new byte[n];
                    float[] absmax = new float[cpu.blocks(n)];
                    cpu.quantize(FloatBuffer.wrap(x), n, ByteBuffer.wrap(codes), FloatBuffer.wrap(absmax));

                    long src = cuda.allocate(4L * n);
                    long c = cuda.allocate(n);
                    long a = cuda.allocate(4L * absmax.length);
                    try {
                        cuda.copyToDevice(src, x);
                        var gpu = new CudaQuantizer(cuda, map, blockSize);
                        gpu.quantize(src, n, c, a, stream);
                        byte[] gc = new byte[n];
                        float[] ga = new float[absmax.length];
                        cuda.copyToHost(gc, 0, n, c);
                        cuda.copyToHost(ga, a);
                        String what = map + " n=" + n + " B=" + blockSize;
                        for (int i = 0; i < n; i++) {
                            assertEquals(codes[i], gc[i], what + ": code " + i + " of " + x[i]);
                        }
                        for (int b = 0; b < absmax.length; b++) {
                            assertEquals(Float.floatToIntBits(absmax[b]), Float.floatToIntBits(ga[b]), what + ": absmax " + b);
                        }
                        float[] decoded = new float[n];
                        cpu.dequantize(ByteBuffer.wrap(codes), FloatBuffer.wrap(absmax), n, FloatBuffer.wrap(decoded));
                        gpu.dequantize(c, a, n, src, stream);
                        float[] gd = new float[n];
                        cuda.copyToHost(gd, src);
                        for (int i = 0; i < n; i++) {
                            assertEquals(Float.floatToIntBits(decoded[i]), Float.floatToIntBits(gd[i]), what + ": decoded " + i);
                        }
                    } finally {
                        cuda.free(src);
                        cuda.free(c);
                        cuda.free(a);
                    }
                }
            }
        }
    }

    /**
     * One tensor on both sides: host copies and a GPU copy at a byte offset into its allocations; 8-bit
     * state, or float32 state when {@code blockSize} is 0.
     */
    private static final class Pair {
        final float[] params;
        final float[] grad;
        final OptimizerState host;
        final CudaState device;
        final long p;
        final long g;
        final long pAlloc;
        final long gAlloc;

        Pair(Random rnd, int n, int blockSize, StatisticKind[] kinds, int misalign) {
            params = random(rnd, n, 1f);
            grad = new float[n];
            if (blockSize == 0) {
                host = Float32State.allocate(n, kinds);
                device = CudaFloat32State.allocate(cuda, n, kinds);
            } else {
                host = QuantizedState.allocate(n, blockSize, kinds);
                device = CudaQuantizedState.allocate(cuda, n, blockSize, kinds);
            }
            pAlloc = cuda.allocate(4L * n + 16);
            gAlloc = cuda.allocate(4L * n + 16);
            p = pAlloc + misalign;
            g = gAlloc + misalign;
        }

        void upload() {
            if (device instanceof CudaQuantizedState q) {
                q.upload((QuantizedState) host);
            } else {
                for (int s = 0; s < host.statistics(); s++) {
                    cuda.copyToDevice(((CudaFloat32State) device).values(s), floats((Float32State) host, s));
                }
            }
        }

        void close() {
            device.close();
            cuda.free(pAlloc);
            cuda.free(gAlloc);
        }
    }

    private static float[] floats(Float32State state, int statistic) {
        float[] values = new float[state.length()];
        state.values(statistic).get(0, values);
        return values;
    }

    /** The gradients of a comparison. */
    private enum Gradients {
        /** Gaussian, one element in fifty a hundred times larger. */
        PLAIN,
        /** As PLAIN, with a NaN and an infinity each step. */
        NON_FINITE,
        /**
         * Built to trip the 8-bit guards (StepBoundTest's data): each element keeps a magnitude spread
         * over twelve decades below its block's largest and one sign in four keeps its sign; step 5 puts
         * 1e3 in 0.1% of the elements, step 6 -1e20 in 1%, step 7 1e30 (its square overflows) in 0.1%.
         */
        HOSTILE
    }

    private static void newGradient(Random rnd, Pair t, Gradients kind, int step) {
        float[] g;
        if (kind == Gradients.HOSTILE) {
            Random fixed = new Random(t.grad.length);
            g = new float[t.grad.length];
            for (int i = 0; i < g.length; i++) {
                float scale = (float) Math.pow(10, -12 * fixed.nextDouble());
                boolean steady = fixed.nextInt(4) == 0;
                g[i] = (steady || rnd.nextBoolean() ? 1 : -1) * scale * (float) (0.5 + rnd.nextDouble());
                double u = rnd.nextDouble();
                g[i] = step == 5 && u < 0.001 ? 1e3f : step == 6 && u < 0.01 ? -1e20f : step == 7 && u < 0.001 ? 1e30f : g[i];
            }
        } else {
            g = random(rnd, t.grad.length, 0.1f);
            if (kind == Gradients.NON_FINITE && g.length > 10) {
                g[rnd.nextInt(g.length)] = Float.NaN;
                g[rnd.nextInt(g.length)] = Float.POSITIVE_INFINITY;
            }
        }
        System.arraycopy(g, 0, t.grad, 0, g.length);
    }

    /** Runs {@code steps} steps on the CPU and the GPU (one launch over all tensors) and compares after each. */
    private static void compare(List<Pair> tensors, IntFunction<UpdateRule> rule, StepOptions options, int steps,
            Random rnd, Gradients gradients, String what) {
        List<CudaTensorGroup.Entry> entries = new ArrayList<>();
        for (Pair t : tensors) {
            entries.add(new CudaTensorGroup.Entry(t.p, t.g, t.device));
        }
        // Start from a state that is not all zeros: two CPU steps, then the same state on the GPU.
        for (int t = 1; t <= 2; t++) {
            for (Pair x : tensors) {
                newGradient(rnd, x, gradients == Gradients.HOSTILE ? gradients : Gradients.PLAIN, t);
                FusedUpdate.apply(FloatBuffer.wrap(x.params), FloatBuffer.wrap(x.grad), x.host, rule.apply(t),
                        StepOptions.DEFAULT, POOL);
            }
        }
        for (Pair x : tensors) {
            x.upload();
            cuda.copyToDevice(x.p, x.params);
        }
        try (CudaTensorGroup group = new CudaTensorGroup(cuda, entries)) {
            for (int t = 3; t < 3 + steps; t++) {
                UpdateRule r = rule.apply(t);
                for (Pair x : tensors) {
                    newGradient(rnd, x, gradients, t);
                    cuda.copyToDevice(x.g, x.grad);
                    FusedUpdate.apply(FloatBuffer.wrap(x.params), FloatBuffer.wrap(x.grad), x.host, r, options, POOL);
                }
                group.step(r, options, stream);
                cuda.synchronize(stream);
                for (int i = 0; i < tensors.size(); i++) {
                    Pair x = tensors.get(i);
                    String at = what + " tensor " + i + " (n=" + x.params.length + ") step " + t;
                    float[] gp = new float[x.params.length];
                    if (options.output() != StepOptions.Output.WRITE_UPDATE_TO_GRADIENT) {
                        cuda.copyToHost(gp, x.p);
                        assertClose(x.params, gp, at + " params");
                    }
                    if (options.output() != StepOptions.Output.APPLY_TO_PARAMS) {
                        // The update, or (zeroing) a gradient of zeros on both sides.
                        cuda.copyToHost(gp, x.g);
                        assertClose(x.grad, gp, at + " gradient buffer");
                    }
                    if (x.device instanceof CudaFloat32State f) {
                        for (int s = 0; s < r.statistics().length; s++) {
                            float[] back = new float[x.params.length];
                            cuda.copyToHost(back, f.values(s));
                            assertClose(floats((Float32State) x.host, s), back, at + " float32 statistic " + s);
                        }
                        if (options.output() == StepOptions.Output.WRITE_UPDATE_TO_GRADIENT) {
                            cuda.copyToDevice(x.p, x.params);
                        }
                        continue;
                    }
                    QuantizedState host = (QuantizedState) x.host;
                    QuantizedState back = QuantizedState.allocate(x.params.length, host.blockSize(), r.statistics());
                    ((CudaQuantizedState) x.device).download(back);
                    for (int s = 0; s < r.statistics().length; s++) {
                        byte[] hc = new byte[x.params.length];
                        byte[] dc = new byte[x.params.length];
                        host.codes(s).get(0, hc);
                        back.codes(s).get(0, dc);
                        for (int e = 0; e < hc.length; e++) {
                            int d = Math.abs((hc[e] & 0xFF) - (dc[e] & 0xFF));
                            codesCompared++;
                            if (d != 0) {
                                codesDiffering++;
                            }
                            assertTrue(d <= 1, at + " statistic " + s + " code " + e + ": " + (hc[e] & 0xFF) + " vs " + (dc[e] & 0xFF));
                        }
                        float[] ha = new float[QuantizedState.blocks(x.params.length, host.blockSize())];
                        float[] da = new float[ha.length];
                        host.absmax(s).get(0, ha);
                        back.absmax(s).get(0, da);
                        assertClose(ha, da, at + " absmax " + s);
                    }
                    if (options.output() == StepOptions.Output.WRITE_UPDATE_TO_GRADIENT) {
                        // DL4J's convention: the caller applies the update; keep both sides' parameters equal.
                        cuda.copyToDevice(x.p, x.params);
                    }
                }
            }
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        double worst = 0;
        double scale = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Float.isNaN(expected[i]) || Float.isNaN(actual[i])) {
                assertEquals(Float.isNaN(expected[i]), Float.isNaN(actual[i]), what + " NaN at " + i);
                continue;
            }
            worst = Math.max(worst, Math.abs((double) expected[i] - actual[i]));
            scale = Math.max(scale, Math.abs((double) expected[i]));
        }
        double error = scale == 0 ? worst : worst / scale;
        assertTrue(error <= 1e-6, what + ": relative error " + error);
    }

    @Test
    void everyOptimizerMatchesTheCpuOnManySizes() {
        Random rnd = new Random(2);
        List<IntFunction<UpdateRule>> rules = rules();
        for (int k = 0; k < rules.size(); k++) {
            IntFunction<UpdateRule> rule = rules.get(k);
            StatisticKind[] kinds = rule.apply(1).statistics();
            for (int blockSize : BLOCKS) {
                for (int n : SIZES) {
                    Pair t = new Pair(rnd, n, blockSize, kinds, 0);
                    try {
                        compare(List.of(t), rule, StepOptions.DEFAULT, 3, rnd, Gradients.PLAIN,
                                rule.apply(1).getClass().getSimpleName() + "#" + k + " B=" + blockSize);
                    } finally {
                        t.close();
                    }
                }
            }
        }
        System.err.printf("[octet] CUDA vs CPU: %d of %d codes differ%n", codesDiffering, codesCompared);
    }

    /**
     * The guards that keep 8-bit steps within the exact rule's bound (the decoded floor, positive
     * divisors kept off zero, overflowing statistics skipped) act on the GPU as on the CPU: every rule,
     * both kernels (blocks of 256 staged, and 2048), gradients built to trip them, eight steps.
     */
    @Test
    void theEightBitGuardsMatchTheCpu() {
        Random rnd = new Random(8);
        for (IntFunction<UpdateRule> rule : rules()) {
            for (int blockSize : new int[] {256, 2048}) {
                Pair t = new Pair(rnd, 64 * 256 + 77, blockSize, rule.apply(1).statistics(), 0);
                try {
                    compare(List.of(t), rule, StepOptions.DEFAULT, 8, rnd, Gradients.HOSTILE,
                            "hostile " + rule.apply(1).getClass().getSimpleName() + " B=" + blockSize);
                } finally {
                    t.close();
                }
            }
        }
    }

    @Test
    void optionsNonFiniteGradientsAndTheUpdateIntoTheGradient() {
        Random rnd = new Random(3);
        StepOptions[] options = {
            StepOptions.DEFAULT,
            new StepOptions(1f, 0.5f, 0.05f, StepOptions.Output.APPLY_TO_PARAMS),
            StepOptions.DEFAULT.withOutput(StepOptions.Output.WRITE_UPDATE_TO_GRADIENT),
            new StepOptions(1f, 2f, 0f, StepOptions.Output.WRITE_UPDATE_TO_GRADIENT),
            StepOptions.DEFAULT.withOutput(StepOptions.Output.APPLY_TO_PARAMS_ZEROING_GRADIENT),
        };
        List<IntFunction<UpdateRule>> rules = rules();
        for (IntFunction<UpdateRule> rule : rules) {
            for (StepOptions o : options) {
                Pair t = new Pair(rnd, 70_001, 256, rule.apply(1).statistics(), 0);
                try {
                    compare(List.of(t), rule, o, 2, rnd, Gradients.NON_FINITE, rule.apply(1) + " " + o);
                } finally {
                    t.close();
                }
            }
        }
    }

    @Test
    void manyTensorsInOneLaunch() {
        Random rnd = new Random(4);
        for (IntFunction<UpdateRule> rule : List.<IntFunction<UpdateRule>>of(
                t -> ReferenceOptimizers.adam(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, t),
                t -> ReferenceOptimizers.lamb(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, t),
                t -> ReferenceOptimizers.lars(1e-2f, 0.9f, 1e-4f, t))) {
            List<Pair> tensors = new ArrayList<>();
            for (int i = 0; i < 41; i++) {
                int n = i % 7 == 3 ? 0 : 1 + rnd.nextInt(i % 5 == 0 ? 300_000 : 5_000);
                tensors.add(new Pair(rnd, n, 256, rule.apply(1).statistics(), 0));
            }
            try {
                compare(tensors, rule, StepOptions.DEFAULT, 2, rnd, Gradients.NON_FINITE, "group " + rule.apply(1).getClass().getSimpleName());
            } finally {
                tensors.forEach(Pair::close);
            }
        }
    }

    /**
     * A framework's update block on the GPU: small parameters the policy keeps 32-bit (float32 state)
     * beside 8-bit ones, one group, every rule but the trust-ratio ones, the update into the gradient.
     */
    @Test
    void float32StateBesideEightBitStateInOneGroup() {
        Random rnd = new Random(6);
        StepOptions intoGradient = StepOptions.DEFAULT.withOutput(StepOptions.Output.WRITE_UPDATE_TO_GRADIENT);
        for (IntFunction<UpdateRule> rule : rules()) {
            if (rule.apply(1).maxUpdateNormRatio() > 0f) {
                continue;
            }
            StatisticKind[] kinds = rule.apply(1).statistics();
            List<Pair> tensors = new ArrayList<>();
            for (int n : new int[] {1, 300, 70_001, 4095, 257}) {
                tensors.add(new Pair(rnd, n, n == 70_001 ? 256 : 0, kinds, 0));
            }
            try {
                for (StepOptions o : new StepOptions[] {intoGradient, StepOptions.DEFAULT}) {
                    compare(tensors, rule, o, 2, rnd, Gradients.NON_FINITE, "float32 beside 8-bit " + rule.apply(1) + " " + o);
                }
            } finally {
                tensors.forEach(Pair::close);
            }
        }
    }

    @Test
    void unalignedTensorsTakeTheScalarPath() {
        Random rnd = new Random(5);
        IntFunction<UpdateRule> adam = t -> ReferenceOptimizers.adam(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, t);
        for (int misalign : new int[] {4, 8, 12}) {
            Pair t = new Pair(rnd, 10_007, 256, adam.apply(1).statistics(), misalign);
            try {
                compare(List.of(t), adam, StepOptions.DEFAULT, 2, rnd, Gradients.PLAIN, "misaligned by " + misalign);
            } finally {
                t.close();
            }
        }
    }
}
