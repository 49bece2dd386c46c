package dev.octet.kernels;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * Block-wise quantization of whole tensors (docs/technique.md section 3): per block of {@code blockSize} elements,
 * absmax = max |x|, and each element's code is the map entry nearest to {@code x / absmax}. Blocks
 * are independent and run in parallel. See {@link BlockCodec} for zeros, denormals, NaN and Inf.
 */
public final class BlockwiseQuantizer {

    private static final int MIN_ELEMENTS_PER_TASK = 1 << 15;

    private final QuantizationMap map;
    private final int blockSize;
    private final KernelPool pool;

    public BlockwiseQuantizer(QuantizationMap map, int blockSize, KernelPool pool) {
        QuantizedState.checkBlockSize(blockSize);
        this.map = map;
        this.blockSize = blockSize;
        this.pool = pool;
    }

    public BlockwiseQuantizer(QuantizationMap map, int blockSize) {
        this(map, blockSize, KernelPool.shared());
    }

    /** Quantizes {@code src[0..length)} into {@code codes} and per-block {@code absmax}. */
    public void quantize(FloatBuffer src, int length, ByteBuffer codes, FloatBuffer absmax) {
        forBlocks(length, (start, n, values, codeScratch) -> {
            src.get(start, values, 0, n);
            absmax.put(start / blockSize, BlockCodec.encode(values, n, codeScratch, map, false, false));
            codes.put(start, codeScratch, 0, n);
        });
    }

    /** Decodes {@code length} elements from {@code codes} and {@code absmax} into {@code dst}. */
    public void dequantize(ByteBuffer codes, FloatBuffer absmax, int length, FloatBuffer dst) {
        forBlocks(length, (start, n, values, codeScratch) -> {
            codes.get(start, codeScratch, 0, n);
            BlockCodec.decode(codeScratch, n, absmax.get(start / blockSize), map, values);
            dst.put(start, values, 0, n);
        });
    }

    public int blocks(int length) {
        return QuantizedState.blocks(length, blockSize);
    }

    private void forBlocks(int length, BlockBody body) {
        int blocks = blocks(length);
        pool.forRanges(blocks, Math.max(1, MIN_ELEMENTS_PER_TASK / blockSize), (from, to) -> {
            // One pair of arrays per range, not per block.
            float[] values = new float[blockSize];
            byte[] codeScratch = new byte[blockSize];
            for (int b = from; b < to; b++) {
                int start = b * blockSize;
                body.run(start, Math.min(blockSize, length - start), values, codeScratch);
            }
        });
    }

    @FunctionalInterface
    private interface BlockBody {
        void run(int start, int n, float[] values, byte[] codes);
    }
}
