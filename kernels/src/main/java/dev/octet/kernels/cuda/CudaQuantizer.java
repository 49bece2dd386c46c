package dev.octet.kernels.cuda;

import dev.octet.kernels.QuantizationMap;
import dev.octet.kernels.QuantizedState;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Block-wise quantization and dequantization of float32 tensors on the GPU (as
 * {@link dev.octet.kernels.BlockwiseQuantizer} on the CPU: nearest code, no sign fix, the same rules for
 * zeros, denormals, NaN and infinities). Synchronous: returns once the result is in device memory.
 */
public final class CudaQuantizer {

    private final CudaBackend cuda;
    private final QuantizationMap map;
    private final int blockSize;

    public CudaQuantizer(CudaBackend cuda, QuantizationMap map, int blockSize) {
        QuantizedState.checkBlockSize(blockSize);
        this.cuda = cuda;
        this.map = map;
        this.blockSize = blockSize;
    }

    public long blocks(long length) {
        return (length + blockSize - 1) / blockSize;
    }

    /** Quantizes {@code length} floats at {@code src} into codes and per-block absmax (device addresses). */
    public void quantize(long src, long length, long codes, long absmax, long stream) {
        run("octet_quantize", src, length, codes, absmax, stream, true);
    }

    /** Decodes {@code length} elements from codes and absmax into floats at {@code dst}. */
    public void dequantize(long codes, long absmax, long length, long dst, long stream) {
        run("octet_dequantize", dst, length, codes, absmax, stream, false);
    }

    private void run(String kernel, long floats, long length, long codes, long absmax, long stream, boolean encode) {
        if (length == 0) {
            return;
        }
        ByteBuffer d = ByteBuffer.allocate(CudaTensorGroup.DESCRIPTOR_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        d.putLong(floats).putLong(0).putLong(codes).putLong(0).putLong(absmax).putLong(0).putLong(length).putLong(0);
        long descriptor = cuda.allocate(d.capacity());
        try {
            cuda.copyToDevice(descriptor, d.array(), 0, d.capacity());
            int threads = CudaBackend.threadsPerCta(blockSize);
            long blocks = blocks(length);
            int grid = cuda.grid(kernel, threads, blocks, threads / (blockSize / 8));
            long table = cuda.table(map, false, false);
            if (encode) {
                cuda.launch(kernel, grid, threads, stream, descriptor, 1, blocks, blockSize, table, map.zeroCode());
            } else {
                cuda.launch(kernel, grid, threads, stream, descriptor, 1, blocks, blockSize, table);
            }
            cuda.synchronize(stream);
        } finally {
            cuda.free(descriptor);
        }
    }
}
