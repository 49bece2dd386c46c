package dev.octet.kernels;

import java.util.Arrays;

/**
 * The statistics an optimizer keeps for one tensor, stored 8-bit block-wise ({@link QuantizedState})
 * or as float32 ({@link Float32State}). The fused update reads and writes it one block at a time
 * through local arrays, so the same update rule serves both.
 */
public abstract sealed class OptimizerState permits QuantizedState, Float32State {

    private final int length;
    private final StatisticKind[] kinds;

    OptimizerState(int length, StatisticKind[] kinds) {
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0, got " + length);
        }
        if (kinds.length < 1 || kinds.length > FusedUpdate.MAX_STATISTICS) {
            throw new IllegalArgumentException(
                    "an optimizer keeps 1 to " + FusedUpdate.MAX_STATISTICS + " statistics, got " + kinds.length);
        }
        this.length = length;
        this.kinds = kinds.clone();
    }

    /** Elements per statistic (the tensor's element count). */
    public final int length() {
        return length;
    }

    public final int statistics() {
        return kinds.length;
    }

    public final StatisticKind kind(int statistic) {
        return kinds[statistic];
    }

    /** Every statistic's kind, in order (a copy). */
    public final StatisticKind[] kinds() {
        return kinds.clone();
    }

    /** The unit of {@link #load}/{@link #store}: block starts are multiples of it. */
    public abstract int blockSize();

    /** Bytes this state occupies. */
    public abstract long bytes();

    /** Decodes elements {@code [start, start + n)} of a statistic into {@code dst[0..n)}. */
    abstract void load(int statistic, int start, int n, float[] dst, byte[] codeScratch);

    /** Encodes {@code src[0..n)} as elements {@code [start, start + n)} of a statistic, rounding to nearest. */
    final void store(int statistic, int start, int n, float[] src, byte[] codeScratch) {
        store(statistic, start, n, src, BlockCodec.largestMagnitude(src, n), false, codeScratch);
    }

    /**
     * {@link #store} of a block whose {@link BlockCodec#largestMagnitude} is {@code largest}; with
     * {@code keepPositive}, 8-bit codes never round a positive value to zero ({@link UpdateRule#divides}).
     */
    abstract void store(int statistic, int start, int n, float[] src, float largest, boolean keepPositive,
            byte[] codeScratch);

    /** Decodes a whole statistic into {@code dst} (tests, checkpoints, conversion to 32-bit). */
    public final void decodeInto(int statistic, float[] dst) {
        float[] block = new float[blockSize()];
        byte[] codes = new byte[blockSize()];
        for (int start = 0; start < length; start += blockSize()) {
            int n = Math.min(blockSize(), length - start);
            load(statistic, start, n, block, codes);
            System.arraycopy(block, 0, dst, start, n);
        }
    }

    /** Sets every element of a statistic to {@code value} (8-bit: exact, the top code times absmax |value|). */
    public final void fill(int statistic, float value) {
        float[] block = new float[blockSize()];
        Arrays.fill(block, value);
        byte[] codes = new byte[blockSize()];
        for (int start = 0; start < length; start += blockSize()) {
            store(statistic, start, Math.min(blockSize(), length - start), block, codes);
        }
    }

    /**
     * Sets every statistic to {@code source}'s (same length and kinds): copied as stored when both are
     * stored alike (8-bit in blocks of the same size, or float32), else decoded and encoded again (a
     * checkpoint saved under another policy).
     */
    public final void copyFrom(OptimizerState source) {
        if (source.length != length || !Arrays.equals(source.kinds, kinds)) {
            throw new IllegalArgumentException("cannot copy state of " + source.length + " elements of "
                    + Arrays.toString(source.kinds) + " into " + length + " of " + Arrays.toString(kinds));
        }
        float[] values = null;
        for (int k = 0; k < kinds.length; k++) {
            if (source instanceof QuantizedState from && this instanceof QuantizedState to
                    && from.blockSize() == to.blockSize()) {
                to.codes(k).put(0, from.codes(k), 0, length);
                to.absmax(k).put(0, from.absmax(k), 0, QuantizedState.blocks(length, to.blockSize()));
            } else if (source instanceof Float32State from && this instanceof Float32State to) {
                to.values(k).put(0, from.values(k), 0, length);
            } else {
                values = values == null ? new float[length] : values;
                source.decodeInto(k, values);
                encodeFrom(k, values);
            }
        }
    }

    /** Encodes a whole statistic from {@code src} (tests, checkpoints, conversion from 32-bit). */
    public final void encodeFrom(int statistic, float[] src) {
        float[] block = new float[blockSize()];
        byte[] codes = new byte[blockSize()];
        for (int start = 0; start < length; start += blockSize()) {
            int n = Math.min(blockSize(), length - start);
            System.arraycopy(src, start, block, 0, n);
            store(statistic, start, n, block, codes);
        }
    }
}
