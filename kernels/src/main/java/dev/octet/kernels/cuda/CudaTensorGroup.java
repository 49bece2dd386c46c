package dev.octet.kernels.cuda;

import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Many GPU tensors updated by one kernel launch: their descriptors (parameter, gradient, codes and
 * absmax addresses, length, first block) sit in a device table uploaded once, the launch numbers the
 * blocks across all tensors, and a persistent grid strides over them, so that a model of many
 * mid-sized tensors runs as fast as one large tensor. Every tensor of a group shares the statistics
 * and, per step, the rule (one parameter group of a framework's optimizer); its 8-bit tensors share
 * the block size. Tensors with float32 state (kept 32-bit by the policy) are a second launch of the
 * same rule over their own table.
 *
 * <p>A step is asynchronous on the caller's stream: it only queues work (LAMB and LARS queue two
 * launches for the 8-bit tensors: the per-tensor norms of the trust ratio, then the update).
 */
public final class CudaTensorGroup implements AutoCloseable {

    /** One tensor: device addresses of its float32 parameters and gradient, and its state. */
    public record Entry(long params, long grad, CudaState state) {
    }

    static final int DESCRIPTOR_BYTES = 80;
    /** sizeof(struct Stage) in octet_kernels.cu. */
    static final int STAGE_BYTES = 2816;
    /** Elements per CTA round of the float32-state kernels (one a thread). */
    static final int FLOAT32_BLOCK = 256;

    /** One launch's tensors: their descriptor table on the device. */
    private record Table(long descriptors, int tensors, long totalBlocks) {
    }

    private final CudaBackend cuda;
    private final StatisticKind[] kinds;
    private final int blockSize;
    private final Table quantized;
    private final Table float32;
    private final long norms;
    private boolean closed;

    public CudaTensorGroup(CudaBackend cuda, List<Entry> entries) {
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("a group needs at least one tensor");
        }
        this.cuda = cuda;
        this.kinds = entries.get(0).state().kinds();
        if (kinds.length == 3 && kinds[2] != kinds[1]) {
            throw new IllegalArgumentException("a third statistic is stored on the second one's map");
        }
        List<Entry> eightBit = new ArrayList<>();
        List<Entry> plain = new ArrayList<>();
        for (Entry e : entries) {
            if (!Arrays.equals(e.state().kinds(), kinds)) {
                throw new IllegalArgumentException("every tensor of a group keeps the same statistics");
            }
            (e.state() instanceof CudaQuantizedState ? eightBit : plain).add(e);
        }
        this.blockSize = eightBit.isEmpty() ? 0 : ((CudaQuantizedState) eightBit.get(0).state()).blockSize();
        for (Entry e : eightBit) {
            if (((CudaQuantizedState) e.state()).blockSize() != blockSize) {
                throw new IllegalArgumentException("every 8-bit tensor of a group has the same block size");
            }
        }
        this.quantized = eightBit.isEmpty() ? null : upload(eightBit);
        this.float32 = plain.isEmpty() ? null : upload(plain);
        this.norms = quantized == null ? 0 : cuda.allocate(16L * quantized.tensors());
    }

    private Table upload(List<Entry> entries) {
        ByteBuffer table = ByteBuffer.allocate(DESCRIPTOR_BYTES * entries.size()).order(ByteOrder.LITTLE_ENDIAN);
        long first = 0;
        for (Entry e : entries) {
            long[] c = new long[3];
            long[] a = new long[3];
            long blocks;
            if (e.state() instanceof CudaQuantizedState s) {
                for (int k = 0; k < s.statistics(); k++) {
                    c[k] = s.codes(k);
                    a[k] = s.absmax(k);
                }
                blocks = s.blocks();
            } else {
                CudaFloat32State s = (CudaFloat32State) e.state();
                for (int k = 0; k < s.statistics(); k++) {
                    c[k] = s.values(k);
                }
                blocks = (s.length() + FLOAT32_BLOCK - 1) / FLOAT32_BLOCK;
            }
            table.putLong(e.params()).putLong(e.grad()).putLong(c[0]).putLong(c[1]).putLong(a[0]).putLong(a[1])
                    .putLong(e.state().length()).putLong(first).putLong(c[2]).putLong(a[2]);
            first += blocks;
        }
        long descriptors = cuda.allocate(table.capacity());
        cuda.copyToDevice(descriptors, table.array(), 0, table.capacity());
        return new Table(descriptors, entries.size(), first);
    }

    public int tensors() {
        return (quantized == null ? 0 : quantized.tensors()) + (float32 == null ? 0 : float32.tensors());
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
        if (float32 != null && r.trustRatio()) {
            throw new UnsupportedOperationException("the trust ratio (LAMB, LARS) runs on 8-bit GPU state only");
        }
        if (quantized != null) {
            stepQuantized(r, stream);
        }
        if (float32 != null) {
            String kernel = r.op().kernel + "_f32";
            cuda.launch(kernel, cuda.grid(kernel, FLOAT32_BLOCK, float32.totalBlocks(), 1), FLOAT32_BLOCK, stream,
                    float32.descriptors(), float32.tensors(), float32.totalBlocks(), r.args());
        }
    }

    private void stepQuantized(CudaRule r, long stream) {
        long tab0 = cuda.table(kinds[0], r.divides()[0]);
        long tab1 = kinds.length > 1 ? cuda.table(kinds[1], r.divides()[1]) : tab0;
        int zero0 = kinds[0].map().zeroCode();
        int zero1 = kinds.length > 1 ? kinds[1].map().zeroCode() : 0;
        int threads = CudaBackend.threadsPerCta(blockSize);
        int blocksPerCta = threads / (blockSize / 8);
        long totalBlocks = quantized.totalBlocks();
        int tensors = quantized.tensors();
        long descriptors = quantized.descriptors();
        // Blocks of 256 (the default) have kernels compiled for one warp a block, which stage each warp's
        // next block in dynamic shared memory: two stages of STAGE_BYTES per warp (rules of up to two
        // statistics; AMSGrad's three load directly).
        boolean b256 = blockSize == 256;
        String suffix = b256 ? "_b256" : "";
        int shared = b256 && kinds.length <= 2 ? threads / 32 * 2 * STAGE_BYTES : 0;
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
            if (quantized != null) {
                cuda.free(quantized.descriptors());
                cuda.free(norms);
            }
            if (float32 != null) {
                cuda.free(float32.descriptors());
            }
        }
    }
}
