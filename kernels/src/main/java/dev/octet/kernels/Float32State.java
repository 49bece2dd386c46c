package dev.octet.kernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/** Optimizer statistics as plain float32, for the parameters a policy keeps 32-bit. */
public final class Float32State extends OptimizerState {

    /** Elements the fused update handles at a time for float32 state (it only sets the work unit). */
    static final int BLOCK = 1024;

    private final FloatBuffer[] values;

    private Float32State(int length, StatisticKind[] kinds, FloatBuffer[] values) {
        super(length, kinds);
        if (values.length != kinds.length) {
            throw new IllegalArgumentException("one buffer per statistic");
        }
        for (FloatBuffer v : values) {
            if (v.capacity() < length) {
                throw new IllegalArgumentException("buffer too small for " + length + " elements");
            }
        }
        this.values = values.clone();
    }

    /** A fresh (zero) state in heap memory. */
    public static Float32State allocate(int length, StatisticKind... kinds) {
        FloatBuffer[] values = new FloatBuffer[kinds.length];
        for (int s = 0; s < kinds.length; s++) {
            values[s] = FloatBuffer.allocate(length);
        }
        return new Float32State(length, kinds, values);
    }

    /** A fresh (zero) state in native memory. */
    public static Float32State allocateDirect(int length, StatisticKind... kinds) {
        FloatBuffer[] values = new FloatBuffer[kinds.length];
        for (int s = 0; s < kinds.length; s++) {
            values[s] = ByteBuffer.allocateDirect(4 * length).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }
        return new Float32State(length, kinds, values);
    }

    /** A state over existing buffers (not copied), e.g. a framework's own state view. */
    public static Float32State wrap(int length, StatisticKind[] kinds, FloatBuffer... values) {
        return new Float32State(length, kinds, values);
    }

    /** The buffer of a statistic (a view). */
    public FloatBuffer values(int statistic) {
        return values[statistic].duplicate();
    }

    @Override
    public int blockSize() {
        return BLOCK;
    }

    @Override
    public long bytes() {
        return 4L * statistics() * length();
    }

    @Override
    void load(int statistic, int start, int n, float[] dst, byte[] codeScratch) {
        values[statistic].get(start, dst, 0, n);
    }

    @Override
    void store(int statistic, int start, int n, float[] src, float largest, boolean keepPositive, byte[] codeScratch) {
        values[statistic].put(start, src, 0, n);
    }
}
