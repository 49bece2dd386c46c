package dev.octet.kernels.cuda;

import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * Many GPU tensors updated by one kernel launch: their descriptors (parameter, gradient, codes and
 * absmax addresses, length, first block) sit in a device table uploaded once, the launch numbers the
 * blocks across all tensors, and a persistent grid strides over them, so that a model of many
 * mid-sized tensors runs as fast as one large tensor. Every tensor of a group shares the block size,
 * the statistics and, per step, the rule (one parameter group of a framework's optimizer).
 *
 * <p>A step is asynchronous on the caller's stream: it only queues work (LAMB and LARS queue two
 * launches: the per-tensor norms of the trust ratio, then the update).
 */
public final class CudaTensorGroup implements AutoCloseable {

    /** One tensor: device addresses of its float32 parameters and gradient, and its state. */
    public record Entry(long params, long grad, CudaQuantizedState state) {
    }

    static final int DESCRIPTOR_BYTES = 64;
    /** sizeof(struct Stage) in octet_kernels.cu. */
    static final int STAGE_BYTES = 2816;

    private final CudaBackend cuda;
    private final int blockSize;
    private final StatisticKind[] kinds;
    private final int tensors;
    private final long totalBlocks;
    private final long descriptors;
    private final long norms;
    private boolean closed;

    public CudaTensorGroup(CudaBackend cuda, List<Entry> entries) {
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("a group needs at least one tensor");
        }
        this.cuda = cuda;
        this.blockSize = entries.get(0).state().blockSize();
        this.kinds = entries.get(0).state().kinds();
        this.tensors = entries.size();
        ByteBuffer table = ByteBuffer.allocate(DESCRIPTOR_BYTES * tensors).order(ByteOrder.LITTLE_ENDIAN);
        long first = 0;
        for (Entry e : entries) {
            CudaQuantizedState s = e.state();
            if (s.blockSize() != blockSize || !Arrays.equals(s.kinds(), kinds)) {
                throw new IllegalArgumentException("every tensor of a group has the same block size and statistics");
            }
            table.putLong(e.params()).putLong(e.grad())
                    .putLong(s.codes(0)).putLong(s.statistics() > 1 ? s.codes(1) : 0L)
                    .putLong(s.absmax(0)).putLong(s.statistics() > 1 ? s.absmax(1) : 0L)
                    .putLong(s.length()).putLong(first);
            first += s.blocks();
        }
        this.totalBlocks = first;
        this.descriptors = cuda.allocate(table.capacity());
        cuda.copyToDevice(descriptors, table.array(), 0, table.capacity());
        this.norms = cuda.allocate(16L * tensors);
    }

    public int tensors() {
        return tensors;
    }

    /** Queues one optimizer step of every tensor on {@code stream} (a raw CUstream handle, 0 = default). */
    public void step(UpdateRule rule, StepOptions options, long stream) {
        if (closed) {
            throw new IllegalStateException("group closed");
        }
        CudaRule r = CudaRule.of(rule, options);
        if (!Arrays.equals(r.statistics(), kinds)) {
            throw new IllegalArgumentException("the rule keeps " + Arrays.toString(r.statistics())
                    + " but the states hold " + Arrays.toString(kinds));
        }
        long tab0 = cuda.table(kinds[0]);
        long tab1 = kinds.length > 1 ? cuda.table(kinds[1]) : tab0;
        int zero0 = kinds[0].map().zeroCode();
        int zero1 = kinds.length > 1 ? kinds[1].map().zeroCode() : 0;
        int threads = CudaBackend.threadsPerCta(blockSize);
        int blocksPerCta = threads / (blockSize / 8);
        // Blocks of 256 (the default) have kernels compiled for one warp a block, which stage each warp's
        // next block in dynamic shared memory: two stages of STAGE_BYTES per warp.
        boolean b256 = blockSize == 256;
        String suffix = b256 ? "_b256" : "";
        int shared = b256 ? threads / 32 * 2 * STAGE_BYTES : 0;
        if (r.trustRatio()) {
            String measure = r.op().kernel + "_measure" + suffix;
            cuda.zero(norms, 16L * tensors, stream);
            cuda.launchShared(measure, cuda.grid(measure, threads, totalBlocks, blocksPerCta, shared), threads, shared,
                    stream, descriptors, tensors, totalBlocks, blockSize, tab0, tab1, zero0, zero1, r.args(), norms);
        }
        String kernel = r.op().kernel + suffix;
        cuda.launchShared(kernel, cuda.grid(kernel, threads, totalBlocks, blocksPerCta, shared), threads, shared, stream,
                descriptors, tensors, totalBlocks, blockSize, tab0, tab1, zero0, zero1, r.args(), norms);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            cuda.free(descriptors);
            cuda.free(norms);
        }
    }
}
