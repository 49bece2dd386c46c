package dev.octet.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.octet.kernels.FusedUpdate;
import dev.octet.kernels.KernelPool;
import dev.octet.kernels.QuantizedState;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import dev.octet.kernels.rules.ReferenceOptimizers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The wiring an adapter needs on a GPU framework, with JCuda buffers standing in for the framework's:
 * one flat parameter array and one flat gradient array holding several parameters at element offsets
 * (most of them not 16-byte aligned), and one float32 optimizer-state view holding octet's 8-bit state
 * laid out as the adapters' {@code PackedStateLayout} does for a DL4J update block (per statistic, then
 * per parameter: four codes a word, then the absmax words). The GPU updates the framework's memory in
 * place, with {@link CudaQuantizedState#wrap}; the CPU kernels run the same step over a host copy.
 * Every output: DL4J's (the update written into the gradient), parameters moved, and DJL's (moved, gradient zeroed).
 */
class CudaFrameworkBuffersGpuTest {

    private static CudaBackend cuda;
    private static final int BLOCK = 256;
    private static final int[] SIZES = {10, 70_003, 256 * 300, 4096, 1};

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

    private static long codeWords(int n) {
        return (n + 3) / 4;
    }

    private static long absmaxWords(int n) {
        return (n + BLOCK - 1) / BLOCK;
    }

    @Test
    void adamInsideAFrameworksStateViewEveryOutput() {
        for (StepOptions.Output output : StepOptions.Output.values()) {
            run(t -> ReferenceOptimizers.adam(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, t), output);
            run(t -> ReferenceOptimizers.momentum(1e-2f, 0.9f, 1e-4f, t, false), output);
        }
    }

    private void run(java.util.function.IntFunction<UpdateRule> rules, StepOptions.Output output) {
        Random rnd = new Random(11);
        StatisticKind[] kinds = rules.apply(1).statistics();
        int total = 0;
        for (int n : SIZES) {
            total += n;
        }
        // The state view: per statistic, per parameter: code words then absmax words.
        long[][] codeWord = new long[kinds.length][SIZES.length];
        long[][] absmaxWord = new long[kinds.length][SIZES.length];
        long words = 0;
        for (int k = 0; k < kinds.length; k++) {
            for (int j = 0; j < SIZES.length; j++) {
                codeWord[k][j] = words;
                words += codeWords(SIZES[j]);
                absmaxWord[k][j] = words;
                words += absmaxWords(SIZES[j]);
            }
        }
        float[] params = new float[total];
        for (int i = 0; i < total; i++) {
            params[i] = (float) rnd.nextGaussian();
        }
        ByteBuffer view = ByteBuffer.allocate((int) (4 * words)).order(ByteOrder.LITTLE_ENDIAN);
        List<QuantizedState> host = new ArrayList<>();
        for (int j = 0; j < SIZES.length; j++) {
            ByteBuffer[] c = new ByteBuffer[kinds.length];
            FloatBuffer[] a = new FloatBuffer[kinds.length];
            for (int k = 0; k < kinds.length; k++) {
                c[k] = view.slice((int) (4 * codeWord[k][j]), SIZES[j]);
                a[k] = view.slice((int) (4 * absmaxWord[k][j]), (int) (4 * absmaxWords(SIZES[j])))
                        .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            }
            QuantizedState s = QuantizedState.wrap(SIZES[j], BLOCK, kinds, c, a);
            for (int k = 0; k < kinds.length; k++) {
                float[] values = new float[SIZES[j]];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) (k == 0 ? rnd.nextGaussian() * 1e-2 : Math.abs(rnd.nextGaussian()) * 1e-4);
                }
                s.encodeFrom(k, values);
            }
            host.add(s);
        }
        StepOptions options = StepOptions.DEFAULT.withOutput(output);
        long p = cuda.allocate(4L * total);
        long g = cuda.allocate(4L * total);
        long v = cuda.allocate(4 * words);
        List<CudaQuantizedState> device = new ArrayList<>();
        try {
            cuda.copyToDevice(p, params);
            cuda.copyToDevice(v, view.array(), 0, view.capacity());
            List<CudaTensorGroup.Entry> entries = new ArrayList<>();
            int offset = 0;
            for (int j = 0; j < SIZES.length; j++) {
                long[] c = new long[kinds.length];
                long[] a = new long[kinds.length];
                for (int k = 0; k < kinds.length; k++) {
                    c[k] = v + 4 * codeWord[k][j];
                    a[k] = v + 4 * absmaxWord[k][j];
                }
                CudaQuantizedState s = CudaQuantizedState.wrap(cuda, SIZES[j], BLOCK, kinds, c, a);
                device.add(s);
                entries.add(new CudaTensorGroup.Entry(p + 4L * offset, g + 4L * offset, s));
                offset += SIZES[j];
            }
            try (CudaTensorGroup group = new CudaTensorGroup(cuda, entries)) {
                for (int t = 1; t <= 3; t++) {
                    float[] grad = new float[total];
                    for (int i = 0; i < total; i++) {
                        grad[i] = (float) (rnd.nextGaussian() * 0.1);
                    }
                    cuda.copyToDevice(g, grad);
                    UpdateRule rule = rules.apply(t);
                    offset = 0;
                    for (int j = 0; j < SIZES.length; j++) {
                        FusedUpdate.apply(FloatBuffer.wrap(params, offset, SIZES[j]).slice(),
                                FloatBuffer.wrap(grad, offset, SIZES[j]).slice(), host.get(j), rule, options,
                                KernelPool.shared());
                        offset += SIZES[j];
                    }
                    group.step(rule, options, 0);
                    cuda.synchronize(0);
                    float[] back = new float[total];
                    if (output != StepOptions.Output.WRITE_UPDATE_TO_GRADIENT) {
                        cuda.copyToHost(back, p);
                        assertClose(params, back, rule + " params, step " + t);
                    }
                    if (output != StepOptions.Output.APPLY_TO_PARAMS) {
                        cuda.copyToHost(back, g);
                        assertClose(grad, back, rule + " gradient buffer (update or zeros), step " + t);
                    }
                    byte[] deviceView = new byte[view.capacity()];
                    cuda.copyToHost(deviceView, 0, deviceView.length, v);
                    ByteBuffer dv = ByteBuffer.wrap(deviceView).order(ByteOrder.LITTLE_ENDIAN);
                    for (int k = 0; k < kinds.length; k++) {
                        for (int j = 0; j < SIZES.length; j++) {
                            for (int i = 0; i < SIZES[j]; i++) {
                                int at = (int) (4 * codeWord[k][j]) + i;
                                int d = Math.abs((view.get(at) & 0xFF) - (dv.get(at) & 0xFF));
                                assertTrue(d <= 1, "code " + i + " of parameter " + j + ", statistic " + k);
                            }
                            float[] ha = new float[(int) absmaxWords(SIZES[j])];
                            float[] da = new float[ha.length];
                            for (int b = 0; b < ha.length; b++) {
                                ha[b] = view.getFloat((int) (4 * (absmaxWord[k][j] + b)));
                                da[b] = dv.getFloat((int) (4 * (absmaxWord[k][j] + b)));
                            }
                            assertClose(ha, da, "absmax of parameter " + j + ", statistic " + k);
                        }
                    }
                    if (output == StepOptions.Output.WRITE_UPDATE_TO_GRADIENT) {
                        // The framework subtracts the update itself; both sides start the next step equal.
                        for (int i = 0; i < total; i++) {
                            params[i] -= grad[i];
                        }
                        cuda.copyToDevice(p, params);
                    }
                }
            }
        } finally {
            device.forEach(CudaQuantizedState::close);
            cuda.free(p);
            cuda.free(g);
            cuda.free(v);
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
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
