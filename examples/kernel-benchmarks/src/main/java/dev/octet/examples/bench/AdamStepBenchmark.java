package dev.octet.examples.bench;

import dev.octet.kernels.CpuCodec;
import dev.octet.kernels.FusedUpdate;
import dev.octet.kernels.KernelPool;
import dev.octet.kernels.QuantizedState;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.rules.AdamRule;
import dev.octet.kernels.rules.ReferenceOptimizers;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One Adam step over a tensor of {@code size} parameters, four ways, on the same data in one run:
 * octet's fused 8-bit block-wise update with the scalar and with the SIMD CPU codec (each in its own
 * JVM: the codec is chosen once per JVM), a float32 Adam written as plainly as Java allows (one fused
 * loop), and a plain copy of the parameter array (the memory-bandwidth ceiling).
 *
 * <p>Bytes moved per parameter: 8-bit Adam reads p, g and two codes and writes p and two codes
 * (16, plus 8 per block for the absmax); float32 Adam reads p, g, m, v and writes p, m, v (28); the copy
 * reads and writes 4 bytes each (8).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms8g", "-Xmx8g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AdamStepBenchmark {

    static final int BLOCK_SIZE = 256;

    @Param({"1048576", "16777216", "67108864"})
    public int size;

    /** 1, or 0 for all cores. */
    @Param({"1", "0"})
    public int threads;

    float[] params;
    float[] grad;
    float[] m;
    float[] v;
    float[] copyTarget;
    QuantizedState state8;
    KernelPool pool;
    ForkJoinPool plainPool;
    AdamRule rule;

    @Setup(Level.Trial)
    public void setUp() {
        int workers = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        pool = KernelPool.ofThreads(workers);
        plainPool = new ForkJoinPool(workers);
        SplittableRandom random = new SplittableRandom(42);
        params = new float[size];
        grad = new float[size];
        for (int i = 0; i < size; i++) {
            params[i] = (float) (random.nextDouble() - 0.5);
            grad[i] = (float) ((random.nextDouble() - 0.5) * 0.01);
        }
        m = new float[size];
        v = new float[size];
        copyTarget = new float[size];
        state8 = QuantizedState.allocate(size, BLOCK_SIZE, StatisticKind.SIGNED, StatisticKind.UNSIGNED);
        // A step well past the start: bias corrections are then ordinary numbers.
        rule = ReferenceOptimizers.adam(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 100);
        // Bring both states out of zero so the timed steps see realistic codes.
        for (int t = 0; t < 3; t++) {
            adam8bit();
            adam32bitPlainJava();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        plainPool.shutdown();
    }

    /** octet's scalar CPU codec (forced, whatever the JVM has). */
    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"-Xms8g", "-Xmx8g", "-Doctet.cpu.codec=scalar"})
    public void adam8bit() {
        FusedUpdate.apply(FloatBuffer.wrap(params), FloatBuffer.wrap(grad), state8, rule, StepOptions.DEFAULT, pool);
    }

    /** octet's SIMD CPU codec: the same step in a JVM with the Vector API module (CpuCodec). */
    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"-Xms8g", "-Xmx8g", "--add-modules", "jdk.incubator.vector", "-Doctet.cpu.codec=vector"})
    public void adam8bitVector() {
        if (!CpuCodec.vector()) {
            throw new IllegalStateException("the SIMD codec does not run: " + CpuCodec.description());
        }
        FusedUpdate.apply(FloatBuffer.wrap(params), FloatBuffer.wrap(grad), state8, rule, StepOptions.DEFAULT, pool);
    }

    @Benchmark
    public void adam32bitPlainJava() {
        int chunks = threads == 1 ? 1 : plainPool.getParallelism() * 4;
        if (chunks == 1) {
            adam32Range(0, size);
            return;
        }
        plainPool.submit(() -> IntStream.range(0, chunks).parallel()
                .forEach(c -> adam32Range((int) ((long) size * c / chunks), (int) ((long) size * (c + 1) / chunks))))
                .join();
    }

    private void adam32Range(int from, int to) {
        float b1 = rule.beta1();
        float b2 = rule.beta2();
        float eps = rule.epsilon();
        float step = rule.stepScale();
        float[] p = params;
        float[] g = grad;
        float[] m1 = m;
        float[] v2 = v;
        for (int i = from; i < to; i++) {
            float gi = g[i];
            float mi = m1[i] * b1 + (1f - b1) * gi;
            float vi = v2[i] * b2 + (1f - b2) * gi * gi;
            m1[i] = mi;
            v2[i] = vi;
            p[i] -= step * mi / ((float) Math.sqrt(vi) + eps);
        }
    }

    @Benchmark
    public void copy() {
        int chunks = threads == 1 ? 1 : plainPool.getParallelism() * 4;
        if (chunks == 1) {
            System.arraycopy(params, 0, copyTarget, 0, size);
            return;
        }
        plainPool.submit(() -> IntStream.range(0, chunks).parallel().forEach(c -> {
            int from = (int) ((long) size * c / chunks);
            int to = (int) ((long) size * (c + 1) / chunks);
            System.arraycopy(params, from, copyTarget, from, to - from);
        })).join();
    }
}
