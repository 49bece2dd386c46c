package dev.octet.kernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Optimizer statistics stored 8-bit block-wise: per statistic one code byte per element and one
 * float32 absmax per block of {@link #blockSize()} elements ({@code 1 + 4/B} bytes per element).
 *
 * <p>The buffers may be octet's own or memory a framework owns (a native buffer seen as a
 * {@code ByteBuffer}); all-zero buffers are a valid fresh state (every value decodes to zero).
 */
public final class QuantizedState extends OptimizerState {

    public static final int MIN_BLOCK_SIZE = 64;
    public static final int MAX_BLOCK_SIZE = 4096;

    private final int blockSize;
    private final ByteBuffer[] codes;
    private final FloatBuffer[] absmax;

    private QuantizedState(int length, int blockSize, StatisticKind[] kinds, ByteBuffer[] codes, FloatBuffer[] absmax) {
        this(length, blockSize, Experiment.TENSOR_SCALING, kinds, codes, absmax);
    }

    /**
     * With {@code tensorScaling} (the fidelity study's ablation only, {@link Experiment}; not a policy
     * key), the state is one block covering the tensor: one absmax, in the first word of each buffer.
     */
    private QuantizedState(int length, int blockSize, boolean tensorScaling, StatisticKind[] kinds, ByteBuffer[] codes,
            FloatBuffer[] absmax) {
        super(length, kinds);
        checkBlockSize(blockSize);
        if (codes.length != kinds.length || absmax.length != kinds.length) {
            throw new IllegalArgumentException("one code buffer and one absmax buffer per statistic");
        }
        for (int s = 0; s < kinds.length; s++) {
            if (codes[s].capacity() < length || absmax[s].capacity() < blocks(length, blockSize)) {
                throw new IllegalArgumentException("statistic " + s + ": buffers too small for " + length
                        + " elements in blocks of " + blockSize);
            }
        }
        this.blockSize = Experiment.effectiveBlockSize(length, blockSize, tensorScaling);
        this.codes = codes.clone();
        this.absmax = absmax.clone();
    }

    /** A fresh (all-zero) state in heap memory. */
    public static QuantizedState allocate(int length, int blockSize, StatisticKind... kinds) {
        checkBlockSize(blockSize);
        ByteBuffer[] codes = new ByteBuffer[kinds.length];
        FloatBuffer[] absmax = new FloatBuffer[kinds.length];
        for (int s = 0; s < kinds.length; s++) {
            codes[s] = ByteBuffer.allocate(length);
            absmax[s] = FloatBuffer.allocate(blocks(length, blockSize));
        }
        return new QuantizedState(length, blockSize, kinds, codes, absmax);
    }

    /** A fresh (all-zero) state in native memory, outside the Java heap. */
    public static QuantizedState allocateDirect(int length, int blockSize, StatisticKind... kinds) {
        checkBlockSize(blockSize);
        ByteBuffer[] codes = new ByteBuffer[kinds.length];
        FloatBuffer[] absmax = new FloatBuffer[kinds.length];
        for (int s = 0; s < kinds.length; s++) {
            codes[s] = ByteBuffer.allocateDirect(length);
            absmax[s] = ByteBuffer.allocateDirect(4 * blocks(length, blockSize))
                    .order(ByteOrder.nativeOrder()).asFloatBuffer();
        }
        return new QuantizedState(length, blockSize, kinds, codes, absmax);
    }

    /** A fresh heap state scaled per tensor (one block covering it), for tests of the ablation's switch. */
    static QuantizedState allocateTensorWise(int length, StatisticKind... kinds) {
        QuantizedState blockWise = allocate(length, MIN_BLOCK_SIZE, kinds);
        return new QuantizedState(length, MIN_BLOCK_SIZE, true, kinds, blockWise.codes, blockWise.absmax);
    }

    /** A state over existing buffers (not copied): codes and absmax per statistic. */
    public static QuantizedState wrap(int length, int blockSize, StatisticKind[] kinds, ByteBuffer[] codes,
            FloatBuffer[] absmax) {
        return new QuantizedState(length, blockSize, kinds, codes, absmax);
    }

    public static int blocks(int length, int blockSize) {
        return (length + blockSize - 1) / blockSize;
    }

    /** Throws unless {@code blockSize} is a power of two from {@link #MIN_BLOCK_SIZE} to {@link #MAX_BLOCK_SIZE}. */
    public static void checkBlockSize(int blockSize) {
        if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two from " + MIN_BLOCK_SIZE
                    + " to " + MAX_BLOCK_SIZE + ", got " + blockSize);
        }
    }

    @Override
    public int blockSize() {
        return blockSize;
    }

    @Override
    public long bytes() {
        return (long) statistics() * (length() + 4L * blocks(length(), blockSize));
    }

    /** The code buffer of a statistic (a view; position and limit are not used by octet). */
    public ByteBuffer codes(int statistic) {
        return codes[statistic].duplicate();
    }

    /** The absmax buffer of a statistic (a view). */
    public FloatBuffer absmax(int statistic) {
        return absmax[statistic].duplicate();
    }

    /**
     * Whether every statistic of the block at {@code start} has an ordinary scale (finite, not negative, not -0): its
     * values then decode to numbers, never NaN or -0. Only a damaged state has another scale: octet stores the
     * largest finite magnitude, and checks a checkpoint's scales when it reads them.
     */
    boolean ordinaryScales(int start) {
        for (FloatBuffer scales : absmax) {
            float scale = scales.get(start / blockSize);
            if (!(scale <= Float.MAX_VALUE) || Float.floatToRawIntBits(scale) < 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    void load(int statistic, int start, int n, float[] dst, byte[] codeScratch) {
        codes[statistic].get(start, codeScratch, 0, n);
        float scale = absmax[statistic].get(start / blockSize);
        BlockCodec.decode(codeScratch, n, scale, kind(statistic).map(), dst);
    }

    @Override
    void store(int statistic, int start, int n, float[] src, float largest, boolean keepPositive, byte[] codeScratch) {
        StatisticKind kind = kind(statistic);
        float scale = BlockCodec.encode(src, n, largest, codeScratch, kind.map(), kind.keepsSign(), keepPositive);
        absmax[statistic].put(start / blockSize, scale);
        codes[statistic].put(start, codeScratch, 0, n);
    }
}
