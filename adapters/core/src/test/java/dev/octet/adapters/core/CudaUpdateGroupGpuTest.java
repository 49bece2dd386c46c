package dev.octet.adapters.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.octet.kernels.Float32State;
import dev.octet.kernels.FusedUpdate;
import dev.octet.kernels.KernelPool;
import dev.octet.kernels.OptimizerState;
import dev.octet.kernels.QuantizedState;
import dev.octet.kernels.StatisticFloor;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import dev.octet.kernels.cuda.Cuda;
import dev.octet.kernels.cuda.CudaBackend;
import dev.octet.kernels.rules.AdaDeltaRule;
import dev.octet.kernels.rules.AdamRule;
import dev.octet.kernels.rules.AmsGradRule;
import dev.octet.kernels.rules.SquaredAverageRule;
import dev.octet.kernels.rules.VelocityNesterovRule;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A framework's update block on the GPU, with JCuda buffers standing in for the framework's (as DL4J's
 * CUDA backend would hand them over): one flat parameter array and one flat gradient array holding the
 * block's parameters one after another, and the block's state words laid out by
 * {@link PackedStateLayout}: large parameters 8-bit (two block sizes), small ones float32. The GPU
 * step ({@link CudaUpdateGroup}) and the CPU path the DL4J adapter takes on the CPU backend
 * ({@link PackedStateLayout.Group#state} and the fused update, the update written into the gradient)
 * run the same steps from the same fresh state; the updates and the state words must agree. Two
 * rules share the block (as a policy's per-parameter overrides make them), and the gradient moves
 * between steps (the block then rebuilds its launch tables).
 */
class CudaUpdateGroupGpuTest {

    private static CudaBackend cuda;
    private static final long[] SIZES = {70_001, 300, 10_000, 1, 5_000};
    private static final int[] BITS = {8, 32, 8, 32, 8};
    private static final int[] BLOCK_SIZES = {256, 256, 1024, 256, 256};
    /** Which of the two rules moves each parameter. */
    private static final int[] SLOTS = {0, 1, 0, 0, 1};

    @BeforeAll
    static void gpu() {
        String reason = Cuda.unavailableReason();
        if (reason != null) {
            System.err.println("[octet] CUDA tests skipped: " + reason);
            return;
        }
        cuda = CudaBackend.get();
    }

    @BeforeEach
    void needsGpu() {
        assumeTrue(cuda != null, () -> "skipped, needs a GPU: " + Cuda.unavailableReason());
    }

    @Test
    void anUpdateBlockOnTheGpuMatchesTheCpuPath() {
        // DL4J's Adam, AMSGrad (three statistics), RmsProp (starting at epsilon), AdaDelta, Nesterovs; each
        // with a second set of hyperparameters for some of the parameters.
        run(t -> new AdamRule(0.9f, 0.999f, 1e-8f, 1e-3f * (float) Math.sqrt(1 - Math.pow(0.999, t))
                / (float) (1 - Math.pow(0.9, t)), 1f, 0f, StatisticFloor.adam(0.9, 0.999, t), true),
                t -> new AdamRule(0.8f, 0.95f, 1e-6f, 1e-4f, 1f, 0f, StatisticFloor.adam(0.8, 0.95, t), true), 0f, 0f);
        run(t -> new AmsGradRule(0.9f, 0.999f, 1e-8f, 1e-3f, StatisticFloor.adam(0.9, 0.999, t)),
                t -> new AmsGradRule(0.9f, 0.99f, 1e-8f, 1e-2f, StatisticFloor.adam(0.9, 0.99, t)), 0f, 0f);
        run(t -> new SquaredAverageRule(1e-3f, 0.95f, 0.05f, 1e-8f, 0f, false, StatisticKind.UNSIGNED),
                t -> new SquaredAverageRule(1e-2f, 0.95f, 0.05f, 1e-6f, 0f, false, StatisticKind.UNSIGNED), 1e-8f, 1e-6f);
        run(t -> new AdaDeltaRule(0.95f, 1e-6f), t -> new AdaDeltaRule(0.9f, 1e-6f), 0f, 0f);
        run(t -> new VelocityNesterovRule(0.9f, 0.1f), t -> new VelocityNesterovRule(0.5f, 0.01f), 0f, 0f);
    }

    private void run(IntFunction<UpdateRule> slot0, IntFunction<UpdateRule> slot1, float initial0, float initial1) {
        IntFunction<UpdateRule> rules = slot0;
        Random rnd = new Random(17);
        List<PackedStateLayout.Param> params = new ArrayList<>();
        int total = 0;
        for (int j = 0; j < SIZES.length; j++) {
            params.add(new PackedStateLayout.Param("p" + j, SIZES[j], BITS[j], BLOCK_SIZES[j]));
            total += (int) SIZES[j];
        }
        List<StatisticKind> kinds = List.of(rules.apply(1).statistics());
        PackedStateLayout.Group block = new PackedStateLayout.Group("test", kinds, params);
        String what = rules.apply(1).getClass().getSimpleName();

        ByteBuffer hostWords = ByteBuffer.allocate(Math.toIntExact(4 * block.words())).order(ByteOrder.nativeOrder());
        List<OptimizerState> host = new ArrayList<>();
        float[] initial = new float[SIZES.length];
        for (int j = 0; j < SIZES.length; j++) {
            initial[j] = SLOTS[j] == 0 ? initial0 : initial1;
            OptimizerState s = block.state(hostWords, j);
            for (int k = 0; k < s.statistics() && initial[j] != 0f; k++) {
                s.fill(k, initial[j]);
            }
            host.add(s);
        }
        float[] p = new float[total];
        for (int i = 0; i < total; i++) {
            p[i] = (float) rnd.nextGaussian();
        }
        long dp = cuda.allocate(4L * total);
        // Two gradient buffers used in turn: a framework that moves its gradient gets the groups rebuilt.
        long[] gradients = {cuda.allocate(4L * total), cuda.allocate(4L * total)};
        long dw = cuda.allocate(4 * block.words());
        long[] addresses = new long[SIZES.length];
        long offset = 0;
        for (int j = 0; j < SIZES.length; j++) {
            addresses[j] = dp + 4 * offset;
            offset += SIZES[j];
        }
        StepOptions intoGradient = StepOptions.DEFAULT.withOutput(StepOptions.Output.WRITE_UPDATE_TO_GRADIENT);
        try (CudaUpdateGroup gpu = new CudaUpdateGroup(cuda, block, dw, addresses, SLOTS)) {
            cuda.copyToDevice(dp, p);
            gpu.initialize(initial);
            compareWords(block, hostWords, dw, what + " fresh state");
            for (int t = 1; t <= 3; t++) {
                float[] g = new float[total];
                for (int i = 0; i < total; i++) {
                    g[i] = (float) (rnd.nextGaussian() * 0.1);
                }
                g[rnd.nextInt(total)] = Float.NaN;
                long dg = gradients[t % 2];
                cuda.copyToDevice(dg, g);
                UpdateRule[] bySlot = {slot0.apply(t), slot1.apply(t)};
                int at = 0;
                for (int j = 0; j < SIZES.length; j++) {
                    int n = (int) SIZES[j];
                    FusedUpdate.apply(FloatBuffer.wrap(p, at, n).slice(), FloatBuffer.wrap(g, at, n).slice(), host.get(j),
                            bySlot[SLOTS[j]], intoGradient, KernelPool.shared());
                    at += n;
                }
                gpu.step(bySlot, intoGradient, dg, 0);
                cuda.synchronize(0);
                float[] update = new float[total];
                cuda.copyToHost(update, dg);
                assertClose(g, update, what + " step " + t + ": the update");
                compareWords(block, hostWords, dw, what + " step " + t);
                // The framework subtracts the update; both sides go on from the same parameters.
                for (int i = 0; i < total; i++) {
                    p[i] -= g[i];
                }
                cuda.copyToDevice(dp, p);
            }
        } finally {
            cuda.free(dp);
            cuda.free(gradients[0]);
            cuda.free(gradients[1]);
            cuda.free(dw);
        }
    }

    /** The device's state words against the host's: codes at most one apart, floats within 1e-6. */
    private static void compareWords(PackedStateLayout.Group block, ByteBuffer hostWords, long deviceWords, String what) {
        byte[] bytes = new byte[hostWords.capacity()];
        cuda.copyToHost(bytes, 0, bytes.length, deviceWords);
        ByteBuffer deviceCopy = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
        for (int j = 0; j < block.params().size(); j++) {
            OptimizerState expected = block.state(hostWords, j);
            OptimizerState actual = block.state(deviceCopy, j);
            for (int k = 0; k < expected.statistics(); k++) {
                String at = what + ", parameter " + j + ", statistic " + k;
                if (expected instanceof QuantizedState q) {
                    QuantizedState d = (QuantizedState) actual;
                    for (int i = 0; i < q.length(); i++) {
                        int diff = Math.abs((q.codes(k).get(i) & 0xFF) - (d.codes(k).get(i) & 0xFF));
                        assertTrue(diff <= 1, at + ": code " + i);
                    }
                    float[] a = new float[QuantizedState.blocks(q.length(), q.blockSize())];
                    float[] b = new float[a.length];
                    q.absmax(k).get(0, a);
                    d.absmax(k).get(0, b);
                    assertClose(a, b, at + ": absmax");
                } else {
                    float[] a = new float[expected.length()];
                    float[] b = new float[a.length];
                    ((Float32State) expected).values(k).get(0, a);
                    ((Float32State) actual).values(k).get(0, b);
                    assertClose(a, b, at + ": float32 values");
                }
            }
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double worst = 0;
        double scale = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs((double) expected[i] - actual[i]));
            scale = Math.max(scale, Math.abs((double) expected[i]));
        }
        double error = scale == 0 ? worst : worst / scale;
        assertTrue(error <= 1e-6, what + ": relative error " + error);
    }
}
