package dev.octet.kernels.cuda;

import dev.octet.kernels.OptimizerState;
import dev.octet.kernels.QuantizedState;
import dev.octet.kernels.StatisticKind;
import java.util.Arrays;

/**
 * 8-bit block-wise optimizer state resident on the GPU: per statistic one code byte per element and one
 * float32 absmax per block, either in device memory of octet's own ({@link #allocate}; a fresh state is
 * all zeros, every value decoding to zero, as on the CPU) or inside device memory a framework owns
 * ({@link #wrap}: e.g. the codes and absmax words of a parameter within DL4J's updater state view, laid
 * out as {@code PackedStateLayout} says). {@link #upload}/{@link #download} move it from and to a
 * {@link QuantizedState} (checkpoints, tests).
 */
public final class CudaQuantizedState implements CudaState {

    private final CudaBackend cuda;
    private final long length;
    private final int blockSize;
    private final StatisticKind[] kinds;
    private final long[] codes;
    private final long[] absmax;
    private final boolean owned;
    private boolean closed;

    private CudaQuantizedState(CudaBackend cuda, long length, int blockSize, StatisticKind[] kinds, long[] codes,
            long[] absmax) {
        this(cuda, length, blockSize, kinds, false);
        for (int s = 0; s < kinds.length; s++) {
            if (codes[s] == 0 || absmax[s] == 0 || (codes[s] & 3) != 0 || (absmax[s] & 3) != 0) {
                throw new IllegalArgumentException("statistic " + s + ": codes and absmax need non-null addresses"
                        + " aligned to 4 bytes");
            }
            this.codes[s] = codes[s];
            this.absmax[s] = absmax[s];
        }
    }

    private CudaQuantizedState(CudaBackend cuda, long length, int blockSize, StatisticKind[] kinds) {
        this(cuda, length, blockSize, kinds, true);
        for (int s = 0; s < kinds.length; s++) {
            codes[s] = cuda.allocate(length);
            absmax[s] = cuda.allocate(4L * blocks());
            cuda.zero(codes[s], length, 0);
            cuda.zero(absmax[s], 4L * blocks(), 0);
        }
        cuda.synchronize(0);
    }

    private CudaQuantizedState(CudaBackend cuda, long length, int blockSize, StatisticKind[] kinds, boolean owned) {
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0");
        }
        QuantizedState.checkBlockSize(blockSize);
        if (kinds.length < 1 || kinds.length > 3) {
            throw new IllegalArgumentException("the CUDA kernels keep 1 to 3 statistics, got " + kinds.length);
        }
        this.cuda = cuda;
        this.length = length;
        this.blockSize = blockSize;
        this.kinds = kinds.clone();
        this.codes = new long[kinds.length];
        this.absmax = new long[kinds.length];
        this.owned = owned;
    }

    /** A fresh (all-zero) state on the GPU. */
    public static CudaQuantizedState allocate(CudaBackend cuda, long length, int blockSize, StatisticKind... kinds) {
        return new CudaQuantizedState(cuda, length, blockSize, kinds);
    }

    /**
     * A state over device memory someone else owns (not copied, never freed by octet): per statistic the
     * address of {@code length} code bytes and of {@code ceil(length / blockSize)} float32 absmax values,
     * each aligned to 4 bytes. All-zero memory is a fresh state.
     */
    public static CudaQuantizedState wrap(CudaBackend cuda, long length, int blockSize, StatisticKind[] kinds,
            long[] codes, long[] absmax) {
        if (codes.length != kinds.length || absmax.length != kinds.length) {
            throw new IllegalArgumentException("one code and one absmax address per statistic");
        }
        return new CudaQuantizedState(cuda, length, blockSize, kinds, codes, absmax);
    }

    @Override
    public long length() {
        return length;
    }

    public int blockSize() {
        return blockSize;
    }

    public long blocks() {
        return (length + blockSize - 1) / blockSize;
    }

    @Override
    public int statistics() {
        return kinds.length;
    }

    @Override
    public StatisticKind kind(int statistic) {
        return kinds[statistic];
    }

    /** Device address of a statistic's codes. */
    public long codes(int statistic) {
        return codes[statistic];
    }

    /** Device address of a statistic's absmax. */
    public long absmax(int statistic) {
        return absmax[statistic];
    }

    /** Device bytes the state occupies. */
    @Override
    public long bytes() {
        return kinds.length * (length + 4L * blocks());
    }

    @Override
    public CudaBackend cuda() {
        return cuda;
    }

    @Override
    public QuantizedState newHostState() {
        return QuantizedState.allocate(Math.toIntExact(length), blockSize, kinds);
    }

    /** Copies a host state (same length, block size and statistics) to the GPU. */
    @Override
    public void upload(OptimizerState state) {
        QuantizedState host = checkShape(state);
        for (int s = 0; s < kinds.length; s++) {
            byte[] c = new byte[(int) length];
            host.codes(s).get(0, c);
            cuda.copyToDevice(codes[s], c, 0, c.length);
            float[] a = new float[(int) blocks()];
            host.absmax(s).get(0, a);
            cuda.copyToDevice(absmax[s], a);
        }
    }

    /** Copies the GPU state into a host state (same length, block size and statistics). */
    @Override
    public void download(OptimizerState state) {
        QuantizedState host = checkShape(state);
        for (int s = 0; s < kinds.length; s++) {
            byte[] c = new byte[(int) length];
            cuda.copyToHost(c, 0, c.length, codes[s]);
            host.codes(s).put(0, c);
            float[] a = new float[(int) blocks()];
            cuda.copyToHost(a, absmax[s]);
            host.absmax(s).put(0, a);
        }
    }

    private QuantizedState checkShape(OptimizerState state) {
        if (!(state instanceof QuantizedState host)) {
            throw new IllegalArgumentException("host state " + state + " is not 8-bit");
        }
        StatisticKind[] hostKinds = host.kinds();
        if (host.length() != length || host.blockSize() != blockSize || !Arrays.equals(hostKinds, kinds)) {
            throw new IllegalArgumentException("host state " + host.length() + " elements, block " + host.blockSize()
                    + ", " + Arrays.toString(hostKinds) + " does not match " + length + ", " + blockSize + ", "
                    + Arrays.toString(kinds));
        }
        return host;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (!owned) {
                return;
            }
            for (int s = 0; s < kinds.length; s++) {
                cuda.free(codes[s]);
                cuda.free(absmax[s]);
            }
        }
    }
}
