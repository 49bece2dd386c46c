package dev.octet.kernels.cuda;

import dev.octet.kernels.Float32State;
import dev.octet.kernels.OptimizerState;
import dev.octet.kernels.StatisticKind;
import java.util.Arrays;

/**
 * Float32 optimizer statistics on the GPU, for the parameters a policy keeps 32-bit: per statistic the
 * device address of {@code length} floats, in device memory of octet's own ({@link #allocate}, all
 * zeros) or inside memory a framework owns ({@link #wrap}: e.g. a small parameter's statistics within
 * DL4J's updater state view, where it shares an update block with 8-bit ones).
 */
public final class CudaFloat32State implements CudaState {

    private final CudaBackend cuda;
    private final long length;
    private final StatisticKind[] kinds;
    private final long[] values;
    private final boolean owned;
    private boolean closed;

    private CudaFloat32State(CudaBackend cuda, long length, StatisticKind[] kinds, long[] values, boolean owned) {
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0");
        }
        if (kinds.length < 1 || kinds.length > 3 || values.length != kinds.length) {
            throw new IllegalArgumentException("1 to 3 statistics, one address each; got " + kinds.length + " and "
                    + values.length);
        }
        for (int s = 0; s < values.length; s++) {
            if (values[s] == 0 || (values[s] & 3) != 0) {
                throw new IllegalArgumentException("statistic " + s + " needs a non-null address aligned to 4 bytes");
            }
        }
        this.cuda = cuda;
        this.length = length;
        this.kinds = kinds.clone();
        this.values = values.clone();
        this.owned = owned;
    }

    /** A fresh (all-zero) state on the GPU. */
    public static CudaFloat32State allocate(CudaBackend cuda, long length, StatisticKind... kinds) {
        long[] values = new long[kinds.length];
        for (int s = 0; s < kinds.length; s++) {
            values[s] = cuda.allocate(Math.max(4, 4 * length));
            cuda.zero(values[s], 4 * length, 0);
        }
        cuda.synchronize(0);
        return new CudaFloat32State(cuda, length, kinds, values, true);
    }

    /** A state over device memory someone else owns (not copied, never freed by octet). */
    public static CudaFloat32State wrap(CudaBackend cuda, long length, StatisticKind[] kinds, long[] values) {
        return new CudaFloat32State(cuda, length, kinds, values, false);
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public int statistics() {
        return kinds.length;
    }

    @Override
    public StatisticKind kind(int statistic) {
        return kinds[statistic];
    }

    @Override
    public CudaBackend cuda() {
        return cuda;
    }

    /** Device address of a statistic's floats. */
    public long values(int statistic) {
        return values[statistic];
    }

    @Override
    public long bytes() {
        return 4L * kinds.length * length;
    }

    @Override
    public Float32State newHostState() {
        return Float32State.allocate(Math.toIntExact(length), kinds);
    }

    @Override
    public void upload(OptimizerState host) {
        float[] v = new float[Math.toIntExact(length)];
        for (int s = 0; s < kinds.length; s++) {
            checkShape(host).values(s).get(0, v);
            cuda.copyToDevice(values[s], v);
        }
    }

    @Override
    public void download(OptimizerState host) {
        float[] v = new float[Math.toIntExact(length)];
        for (int s = 0; s < kinds.length; s++) {
            cuda.copyToHost(v, values[s]);
            checkShape(host).values(s).put(0, v);
        }
    }

    private Float32State checkShape(OptimizerState host) {
        if (!(host instanceof Float32State f) || f.length() != length || !Arrays.equals(f.kinds(), kinds)) {
            throw new IllegalArgumentException("host state " + host + " is not float32 " + length + " elements, "
                    + Arrays.toString(kinds));
        }
        return f;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (owned) {
                for (long v : values) {
                    cuda.free(v);
                }
            }
        }
    }
}
