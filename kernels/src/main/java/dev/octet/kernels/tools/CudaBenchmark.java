package dev.octet.kernels.tools;

import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.cuda.Cuda;
import dev.octet.kernels.cuda.CudaBackend;
import dev.octet.kernels.cuda.CudaQuantizedState;
import dev.octet.kernels.cuda.CudaTensorGroup;
import dev.octet.kernels.rules.AdamRule;
import dev.octet.kernels.rules.ReferenceOptimizers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The GPU benchmark: octet's 8-bit Adam over float32 parameters, per 2^30 parameters, as one
 * tensor and as 256 tensors (one launch), against a device-to-device copy of the parameters (the
 * bandwidth ceiling). Data is random and made on the device; the state is stepped before timing, so no
 * number is taken on zeros. Each figure is the median of {@code repeats} steps timed with CUDA events.
 * PyTorch's fused Adam is timed by {@code kernels/src/test/gpu/bench_torch.py} in the same run.
 *
 * <pre>java -cp octet-kernels.jar:jcuda.jar:jcuda-natives.jar dev.octet.kernels.tools.CudaBenchmark [log2 params] [repeats] [block sizes, e.g. 256,1024]</pre>
 */
public final class CudaBenchmark {

    private CudaBenchmark() {
    }

    public static void main(String[] args) {
        int log2 = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int[] blockSizes = Arrays.stream((args.length > 2 ? args[2] : "256").split(",")).mapToInt(Integer::parseInt).toArray();
        if (!Cuda.available()) {
            System.err.println(Cuda.unavailableReason());
            System.exit(2);
        }
        CudaBackend cuda = CudaBackend.get();
        long total = 1L << log2;
        System.out.println("octet CUDA benchmark on " + cuda.description() + ", " + total + " float32 parameters, median of "
                + repeats + " steps");
        long stream = cuda.createStream();
        List<String> rows = new ArrayList<>();
        double copyMs = copy(cuda, total, stream, repeats);
        double copyBandwidth = 8.0 * total / (copyMs * 1e-3) / 1e12;
        rows.add(String.format(Locale.ROOT, "BENCH copy-d2d         %9.3f ms  %6.2f TB/s (read+write); 16 B/param at that rate: %.3f ms",
                copyMs, copyBandwidth, 16.0 * total / (copyBandwidth * 1e12) * 1e3));
        for (int blockSize : blockSizes) {
            for (int tensors : new int[] {1, 256}) {
                double ms = adam(cuda, total, tensors, blockSize, stream, repeats);
                double bandwidth = (16.0 * total + 8.0 * total / blockSize) / (ms * 1e-3) / 1e12;
                rows.add(String.format(Locale.ROOT,
                        "BENCH octet-adam8 %-4s %9.3f ms  %6.2f TB/s at 16 B/param (%.0f%% of copy); state %.4f B/param%s",
                        tensors == 1 ? "1x" : tensors + "x", ms, bandwidth, 100 * bandwidth / copyBandwidth,
                        2.0 * (total + 4.0 * ((total / tensors + blockSize - 1) / blockSize) * tensors) / total,
                        blockSize == 256 ? "" : ", block " + blockSize));
            }
        }
        rows.forEach(System.out::println);
    }

    /** The median of {@code repeats} timings of {@code work}, after three untimed runs. */
    private static float time(CudaBackend cuda, long stream, Runnable work, int repeats) {
        for (int i = 0; i < 3; i++) {
            work.run();
        }
        float[] samples = new float[repeats];
        for (int i = 0; i < repeats; i++) {
            samples[i] = cuda.elapsedMs(stream, work);
        }
        Arrays.sort(samples);
        return samples[repeats / 2];
    }

    private static double copy(CudaBackend cuda, long n, long stream, int repeats) {
        long a = cuda.allocate(4 * n);
        long b = cuda.allocate(4 * n);
        try {
            cuda.fillRandom(a, n, 1, 1f, stream);
            return time(cuda, stream, () -> cuda.copyAsync(b, a, 4 * n, stream), repeats);
        } finally {
            cuda.free(a);
            cuda.free(b);
        }
    }

    private static double adam(CudaBackend cuda, long total, int tensors, int blockSize, long stream, int repeats) {
        long n = total / tensors;
        List<Long> memory = new ArrayList<>();
        List<CudaQuantizedState> states = new ArrayList<>();
        List<CudaTensorGroup.Entry> entries = new ArrayList<>();
        try {
            for (int i = 0; i < tensors; i++) {
                long p = cuda.allocate(4 * n);
                long g = cuda.allocate(4 * n);
                memory.add(p);
                memory.add(g);
                cuda.fillRandom(p, n, 2 * i + 11, 1f, stream);
                cuda.fillRandom(g, n, 2 * i + 12, 1e-2f, stream);
                CudaQuantizedState s = CudaQuantizedState.allocate(cuda, n, blockSize, StatisticKind.SIGNED, StatisticKind.UNSIGNED);
                states.add(s);
                entries.add(new CudaTensorGroup.Entry(p, g, s));
            }
            try (CudaTensorGroup group = new CudaTensorGroup(cuda, entries)) {
                int[] step = {0};
                Runnable one = () -> {
                    step[0]++;
                    AdamRule rule = ReferenceOptimizers.adam(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, step[0]);
                    group.step(rule, StepOptions.DEFAULT, stream);
                };
                for (int i = 0; i < 5; i++) {
                    one.run();      // a state that is not zeros
                }
                return time(cuda, stream, one, repeats);
            }
        } finally {
            cuda.synchronize(stream);
            states.forEach(CudaQuantizedState::close);
            memory.forEach(cuda::free);
        }
    }
}
