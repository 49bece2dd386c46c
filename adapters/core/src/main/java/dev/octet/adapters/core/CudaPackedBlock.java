package dev.octet.adapters.core;

import dev.octet.kernels.OptimizerState;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import dev.octet.kernels.cuda.CudaBackend;
import dev.octet.kernels.cuda.CudaFloat32State;
import dev.octet.kernels.cuda.CudaQuantizedState;
import dev.octet.kernels.cuda.CudaState;
import dev.octet.kernels.cuda.CudaTensorGroup;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@link PackedStateLayout.Block} whose parameters, gradient and state words live in GPU memory that
 * a framework owns: each parameter's statistics are used in place, where the layout puts them in the
 * state words (8-bit codes and absmax, or float32 for the parameters the policy keeps 32-bit), and a
 * step is one {@link CudaTensorGroup} step over the whole block on the framework's stream (one group
 * per block size, should the policy give the block's parameters different ones). The CPU path
 * reads the same words through {@link PackedStateLayout.Block#state}, so checkpoints do not care which
 * one wrote them. Nothing here knows a framework: its adapter supplies device addresses and a stream,
 * and keeps the framework's own bookkeeping of which copy of its memory is current.
 */
public final class CudaPackedBlock implements AutoCloseable {

    private final CudaBackend cuda;
    private final PackedStateLayout.Block block;
    private final long stateWords;
    private final long[] params;
    private final List<CudaState> states = new ArrayList<>();
    /** The gradient address the current groups were built for (frameworks normally keep it fixed). */
    private long gradient;
    private final List<CudaTensorGroup> groups = new ArrayList<>();

    /**
     * @param stateWords device address of the block's state words (4-byte aligned)
     * @param params device address of each parameter of the block, in the block's order
     */
    public CudaPackedBlock(CudaBackend cuda, PackedStateLayout.Block block, long stateWords, long[] params) {
        if (!block.managed() || params.length != block.params().size()) {
            throw new IllegalArgumentException("a block octet manages, with one address per parameter");
        }
        this.cuda = cuda;
        this.block = block;
        this.stateWords = stateWords;
        this.params = params.clone();
        StatisticKind[] kinds = block.kinds().toArray(new StatisticKind[0]);
        for (int p = 0; p < params.length; p++) {
            PackedStateLayout.Param param = block.params().get(p);
            long[] codes = new long[kinds.length];
            long[] absmax = new long[kinds.length];
            for (int s = 0; s < kinds.length; s++) {
                codes[s] = stateWords + 4 * block.statisticStart(p, s);
                absmax[s] = codes[s] + 4 * param.codeWords();
            }
            states.add(param.quantized()
                    ? CudaQuantizedState.wrap(cuda, param.elements(), param.blockSize(), kinds, codes, absmax)
                    : CudaFloat32State.wrap(cuda, param.elements(), kinds, codes));
        }
    }

    /**
     * Writes a fresh state into the block's words: every statistic of every parameter at {@code initial}
     * (zero for most optimizers; the framework's own starting value for the others). Synchronous.
     */
    public void initialize(float initial) {
        ByteBuffer words = ByteBuffer.allocateDirect(Math.toIntExact(4 * block.words())).order(ByteOrder.nativeOrder());
        if (initial != 0f) {
            for (int p = 0; p < params.length; p++) {
                OptimizerState state = block.state(words, p);
                for (int s = 0; s < state.statistics(); s++) {
                    state.fill(s, initial);
                }
            }
        }
        cuda.copyToDevice(stateWords, words, words.capacity());
    }

    /**
     * Queues one step of {@code rule} over the block on {@code stream}; {@code gradient} is the device
     * address of the block's gradient (its parameters' gradients one after another).
     */
    public void step(UpdateRule rule, StepOptions options, long gradient, long stream) {
        if (groups.isEmpty() || gradient != this.gradient) {
            if (!groups.isEmpty()) {
                cuda.synchronize(stream); // the last step may still read the descriptors about to be freed
            }
            closeGroups();
            // Float32 state goes with the first group: a group launches its float32 tensors separately.
            Map<Integer, List<CudaTensorGroup.Entry>> byBlockSize = new LinkedHashMap<>();
            long offset = 0;
            for (int p = 0; p < params.length; p++) {
                PackedStateLayout.Param param = block.params().get(p);
                int key = param.quantized() ? param.blockSize() : 0;
                byBlockSize.computeIfAbsent(key, k -> new ArrayList<>())
                        .add(new CudaTensorGroup.Entry(params[p], gradient + 4 * offset, states.get(p)));
                offset += param.elements();
            }
            List<CudaTensorGroup.Entry> float32 = byBlockSize.remove(0);
            if (float32 != null) {
                byBlockSize.computeIfAbsent(byBlockSize.isEmpty() ? 0 : byBlockSize.keySet().iterator().next(),
                        k -> new ArrayList<>()).addAll(float32);
            }
            for (List<CudaTensorGroup.Entry> entries : byBlockSize.values()) {
                groups.add(new CudaTensorGroup(cuda, entries));
            }
            this.gradient = gradient;
        }
        for (CudaTensorGroup g : groups) {
            g.step(rule, options, stream);
        }
    }

    private void closeGroups() {
        groups.forEach(CudaTensorGroup::close);
        groups.clear();
    }

    @Override
    public void close() {
        closeGroups();
        states.forEach(CudaState::close);
    }
}
