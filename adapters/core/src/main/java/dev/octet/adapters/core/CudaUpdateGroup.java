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
 * One {@link PackedStateLayout.Group} whose parameters, gradient and state words live in GPU memory that
 * a framework owns: each parameter's statistics are used in place, where the layout puts them in the
 * state words (8-bit codes and absmax, or float32 for the parameters the policy keeps 32-bit), and a
 * step is one {@link CudaTensorGroup} step per rule and state format on the framework's stream (one in
 * all, unless the policy gives the group's parameters different hyperparameters, block sizes or
 * precisions). The CPU path reads the same words through {@link PackedStateLayout.Group#state}, so checkpoints do not care which
 * one wrote them. Nothing here knows a framework: its adapter supplies device addresses and a stream,
 * and keeps the framework's own bookkeeping of which copy of its memory is current.
 */
public final class CudaUpdateGroup implements AutoCloseable {

    private final CudaBackend cuda;
    private final PackedStateLayout.Group group;
    private final long stateWords;
    private final long[] params;
    private final int[] ruleSlots;
    private final List<CudaState> states = new ArrayList<>();
    /** The gradient address the current groups were built for (frameworks normally keep it fixed). */
    private long gradient;
    private final List<SlotGroup> groups = new ArrayList<>();

    /** The tensors of one rule slot and one state format (8-bit at one group size, or float32). */
    private record SlotGroup(int slot, CudaTensorGroup tensors) {
    }

    /**
     * @param stateWords device address of the group's state words (4-byte aligned)
     * @param params device address of each parameter of the group, in the group's order
     * @param ruleSlots per parameter, which of the rules given to {@link #step} moves it
     */
    public CudaUpdateGroup(CudaBackend cuda, PackedStateLayout.Group group, long stateWords, long[] params,
            int[] ruleSlots) {
        if (!group.managed() || params.length != group.params().size() || ruleSlots.length != params.length) {
            throw new IllegalArgumentException("a group octet manages, with one address and rule slot per parameter");
        }
        this.cuda = cuda;
        this.group = group;
        this.stateWords = stateWords;
        this.params = params.clone();
        this.ruleSlots = ruleSlots.clone();
        StatisticKind[] kinds = group.kinds().toArray(new StatisticKind[0]);
        for (int p = 0; p < params.length; p++) {
            PackedStateLayout.Param param = group.params().get(p);
            long[] codes = new long[kinds.length];
            long[] absmax = new long[kinds.length];
            for (int s = 0; s < kinds.length; s++) {
                codes[s] = stateWords + 4 * group.statisticStart(p, s);
                absmax[s] = codes[s] + 4 * param.codeWords();
            }
            states.add(param.quantized()
                    ? CudaQuantizedState.wrap(cuda, param.elements(), param.blockSize(), kinds, codes, absmax)
                    : CudaFloat32State.wrap(cuda, param.elements(), kinds, codes));
        }
    }

    /**
     * Writes a fresh state into the group's words: every statistic of parameter {@code p} at
     * {@code initial[p]} (zero for most optimizers; the framework's own starting value for the others).
     * Synchronous.
     */
    public void initialize(float[] initial) {
        ByteBuffer words = ByteBuffer.allocateDirect(Math.toIntExact(4 * group.words())).order(ByteOrder.nativeOrder());
        for (int p = 0; p < params.length; p++) {
            if (initial[p] != 0f) {
                OptimizerState state = group.state(words, p);
                for (int s = 0; s < state.statistics(); s++) {
                    state.fill(s, initial[p]);
                }
            }
        }
        cuda.copyToDevice(stateWords, words, words.capacity());
    }

    /**
     * Queues one step over the group on {@code stream}, each parameter moved by {@code rules[} its slot
     * {@code ]}; {@code gradient} is the device address of the group's gradient (its parameters'
     * gradients one after another).
     */
    public void step(UpdateRule[] rules, StepOptions options, long gradient, long stream) {
        if (groups.isEmpty() || gradient != this.gradient) {
            if (!groups.isEmpty()) {
                cuda.synchronize(stream); // the last step may still read the descriptors about to be freed
            }
            closeGroups();
            // One group per rule slot and state format: (slot, block size), 0 for float32.
            Map<List<Integer>, List<CudaTensorGroup.Entry>> byKey = new LinkedHashMap<>();
            long offset = 0;
            for (int p = 0; p < params.length; p++) {
                PackedStateLayout.Param param = group.params().get(p);
                List<Integer> key = List.of(ruleSlots[p], param.quantized() ? param.blockSize() : 0);
                byKey.computeIfAbsent(key, k -> new ArrayList<>())
                        .add(new CudaTensorGroup.Entry(params[p], gradient + 4 * offset, states.get(p)));
                offset += param.elements();
            }
            byKey.forEach((key, entries) -> groups.add(new SlotGroup(key.get(0), new CudaTensorGroup(cuda, entries))));
            this.gradient = gradient;
        }
        for (SlotGroup g : groups) {
            g.tensors().step(rules[g.slot()], options, stream);
        }
    }

    private void closeGroups() {
        groups.forEach(g -> g.tensors().close());
        groups.clear();
    }

    @Override
    public void close() {
        closeGroups();
        states.forEach(CudaState::close);
    }
}
