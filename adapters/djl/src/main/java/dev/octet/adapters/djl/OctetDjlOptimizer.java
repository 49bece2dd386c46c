package dev.octet.adapters.djl;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.octet.adapters.core.OctetRuntime;
import dev.octet.adapters.core.StartupReport;
import dev.octet.kernels.Float32State;
import dev.octet.kernels.FusedUpdate;
import dev.octet.kernels.KernelPool;
import dev.octet.kernels.OptimizerState;
import dev.octet.kernels.QuantizedState;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import dev.octet.policy.Decision;
import dev.octet.policy.ParameterInfo;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * octet's state for one DJL optimizer of one model: per parameter (by the stable name
 * {@code block.getParameters()} gives it) the policy's decision and the statistics, stored 8-bit or
 * float32; DJL's update counts (per parameter and the global maximum its optimizers use as {@code t}).
 * Updates run the fused kernel directly on the tensors' memory.
 */
final class OctetDjlOptimizer {

    private static final StepOptions ZERO_GRADIENT =
            StepOptions.DEFAULT.withOutput(StepOptions.Output.APPLY_TO_PARAMS_ZEROING_GRADIENT);

    /** One parameter's state. */
    static final class Entry {
        final String name;
        final long[] shape;
        final Decision decision;
        final OptimizerState state;
        final String layerType;
        boolean aliasChecked;

        Entry(String name, long[] shape, Decision decision, OptimizerState state, String layerType) {
            this.name = name;
            this.shape = shape;
            this.decision = decision;
            this.state = state;
            this.layerType = layerType;
        }

        boolean quantized() {
            return state instanceof QuantizedState;
        }
    }

    final DjlOptimizerMath math;
    /** Weak: octet's maps are keyed weakly by the model and the optimizer, and must not keep them alive. */
    private final WeakReference<Model> model;
    final String modelName;
    /** By DJL's parameter id (which changes every run); the entries carry the stable names. */
    private final Map<String, Entry> byId = new ConcurrentHashMap<>();
    /** Ids DJL updated that are no trainable parameter of the model (DJL's optimizer updates them). */
    private final Set<String> notPlanned = new HashSet<>();
    /** In the order of {@code block.getParameters()}. */
    final Map<String, Entry> byName = new LinkedHashMap<>();
    /** DJL's per-parameter update counts, by name, and its global maximum. */
    final Map<String, Integer> counts = new HashMap<>();
    int numUpdate;
    private boolean planned;
    /** The state file to restore when planning (set when DJL trains the arrays a load made). */
    Path pendingRestore;
    /** The loads of the model this optimizer trains. */
    DjlLoads loads;

    OctetDjlOptimizer(DjlOptimizerMath math, Model model) {
        this.math = math;
        this.model = new WeakReference<>(model);
        this.modelName = model.getName();
    }

    /**
     * Decides and allocates state for every trainable parameter of the model (once, when the block is
     * initialized), publishes the start-up report, and restores saved state if the job loaded it.
     */
    synchronized void planIfNeeded(Consumer<String> log) {
        if (planned) {
            return;
        }
        Model m = model.get();
        if (m == null) {
            return;
        }
        List<Entry> added = plan(m);
        planned = true;
        OctetRuntime.publish(report("", added), log);
        warnUnmatchedRules(m);
        if (pendingRestore != null) {
            DjlStateFile.restoreOrWarn(pendingRestore, this);
            pendingRestore = null;
        }
    }

    /**
     * Plans the parameters that were not trainable when octet planned the others (frozen then,
     * unfrozen for fine-tuning since), on the first update of one of them, and reports them; returns
     * the entry of {@code parameterId}, or null if the model has no trainable parameter of that id.
     */
    private synchronized Entry planLate(String parameterId, Consumer<String> log) {
        if (byId.containsKey(parameterId) || notPlanned.contains(parameterId)) {
            return byId.get(parameterId);
        }
        Model m = model.get();
        List<Entry> added = m == null ? List.of() : plan(m);
        if (!added.isEmpty()) {
            OctetRuntime.publish(report(", parameters unfrozen since its first step", added), log);
        }
        Entry e = byId.get(parameterId);
        if (e == null) {
            notPlanned.add(parameterId);
        }
        return e;
    }

    /** The policy's rules that match none of the model's parameters, trainable now or not. */
    private void warnUnmatchedRules(Model m) {
        Map<Parameter, String[]> owners = new HashMap<>();
        DjlNames.collectOwners(m.getBlock(), owners);
        List<ParameterInfo> all = new ArrayList<>();
        for (Pair<String, Parameter> p : m.getBlock().getParameters()) {
            if (p.getValue().isInitialized()) {
                String[] owner = owners.getOrDefault(p.getValue(), new String[] {null, null});
                all.add(new ParameterInfo(p.getKey(), p.getValue().getArray().getShape().getShape(), owner[0], owner[1],
                        math.kind.simpleName));
            }
        }
        OctetRuntime.warnUnmatchedRules("the model " + modelName, m, all);
    }

    /** Decides and allocates state for the model's trainable parameters that have none yet. */
    private List<Entry> plan(Model m) {
        Block root = m.getBlock();
        Map<Parameter, String[]> owners = new HashMap<>();
        DjlNames.collectOwners(root, owners);
        StatisticKind[] kinds = math.statistics();
        List<Entry> added = new ArrayList<>();
        for (Pair<String, Parameter> p : root.getParameters()) {
            Parameter param = p.getValue();
            if (byId.containsKey(param.getId()) || !param.requiresGradient() || !param.isInitialized()) {
                continue;
            }
            NDArray array = param.getArray();
            long[] shape = array.getShape().getShape();
            String[] owner = owners.getOrDefault(param, new String[] {null, null});
            Decision decision = OctetRuntime.policy().decide(new ParameterInfo(p.getKey(), shape, owner[0], owner[1],
                    math.kind.simpleName));
            List<String> ignored = math.withoutPlaceFor(decision.overrides());
            if (!ignored.isEmpty()) {
                OctetRuntime.warnOnce("djl-overrides:" + ignored, "the policy overrides " + String.join(", ", ignored)
                        + " for " + p.getKey() + " (and maybe others), which DJL's " + math.name() + " does not have; ignored");
            }
            int n = Math.toIntExact(array.size());
            OptimizerState state = decision.bits() == 8
                    ? QuantizedState.allocateDirect(n, decision.blockSize(), kinds)
                    : Float32State.allocateDirect(n, kinds);
            Entry e = new Entry(p.getKey(), shape, decision, state, owner[1]);
            byId.put(param.getId(), e);
            byName.put(p.getKey(), e);
            added.add(e);
        }
        return added;
    }

    boolean planned() {
        return planned;
    }

    boolean trains(Model m) {
        return model.get() == m;
    }

    /**
     * One DJL update of one parameter through octet; returns false (DJL updates it itself) when the
     * parameter is not one octet planned for or not a float32 CPU tensor.
     */
    boolean update(String parameterId, NDArray grad, NDArray weight, Consumer<String> log) {
        Entry e = byId.get(parameterId);
        if (e == null && (e = planLate(parameterId, log)) == null) {
            return false;
        }
        if (weight.getDataType() != DataType.FLOAT32 || grad.getDataType() != DataType.FLOAT32
                || !Device.Type.CPU.equals(weight.getDevice().getDeviceType())
                || !Device.Type.CPU.equals(grad.getDevice().getDeviceType())) {
            OctetRuntime.warnOnce("djl-not-cpu-float:" + e.name, "parameter " + e.name + " is not a float32 CPU tensor ("
                    + weight.getDataType() + " on " + weight.getDevice() + "); DJL's own optimizer updates it");
            return false;
        }
        int t = nextCount(e.name);
        UpdateRule rule = math.rule(parameterId, t, e.decision.overrides());
        if (rule == null) {
            return false; // DJL refuses this step; its own update says why
        }
        ByteBuffer weightBytes = weight.toByteBuffer(true);
        ByteBuffer gradBytes = grad.toByteBuffer(true);
        if (!e.aliasChecked) {
            if (!aliases(weight, weightBytes) || !aliases(grad, gradBytes)) {
                OctetRuntime.warnOnce("djl-alias:" + e.name, "the memory of " + e.name + " cannot be written in place"
                        + " (not a contiguous CPU tensor); DJL's own optimizer updates it");
                counts.merge(e.name, -1, Integer::sum);
                return false;
            }
            e.aliasChecked = true;
        }
        FloatBuffer p = weightBytes.order(ByteOrder.nativeOrder()).asFloatBuffer();
        FloatBuffer g = gradBytes.order(ByteOrder.nativeOrder()).asFloatBuffer();
        // DJL's PyTorch optimizers leave the gradient zeroed; octet zeroes it in the same pass.
        FusedUpdate.apply(p, g, e.state, rule, ZERO_GRADIENT, KernelPool.shared());
        return true;
    }

    /** DJL's {@code updateCount}: per parameter from {@code beginNumUpdate + 1}, the global maximum returned. */
    private synchronized int nextCount(String name) {
        if (!math.countsUpdates()) {
            return 0;
        }
        int count = counts.merge(name, math.beginNumUpdate() + 1, (old, first) -> old + 1);
        numUpdate = Math.max(numUpdate, count);
        return numUpdate;
    }

    /**
     * Whether writes through {@code bytes} land in the tensor: DJL hands out a copy for a tensor that is
     * not contiguous. Checked once per parameter by writing one element through the buffer and reading
     * it back through a second buffer the tensor gives.
     */
    private static boolean aliases(NDArray array, ByteBuffer bytes) {
        if (!bytes.isDirect() || bytes.capacity() < 4) {
            return false;
        }
        bytes.order(ByteOrder.nativeOrder());
        float original = bytes.getFloat(0);
        float probe = Float.intBitsToFloat(Float.floatToRawIntBits(original) ^ 0x00400001);
        bytes.putFloat(0, probe);
        ByteBuffer again = array.toByteBuffer(true).order(ByteOrder.nativeOrder());
        boolean same = Float.floatToRawIntBits(again.getFloat(0)) == Float.floatToRawIntBits(probe);
        bytes.putFloat(0, original);
        if (!same) {
            again.putFloat(0, original);
        }
        return same;
    }

    /** The report of {@code entries}; {@code what} follows the model's name in the title. */
    StartupReport report(String what, List<Entry> entries) {
        StartupReport report = new StartupReport("octet: optimizer state of DJL " + math.name() + " for model "
                + modelName + what + " (policy " + OctetRuntime.policy().source() + ")");
        int statistics = math.statistics().length;
        for (Entry e : entries) {
            long before = 4L * statistics * e.state.length();
            String format = e.quantized() ? String.format(Locale.ROOT, "8-bit, block %d", e.decision.blockSize()) : "float32";
            report.add(new StartupReport.Row(e.name, e.shape, math.name(), format, e.decision.explanation(), before,
                    e.state.bytes()));
        }
        return report;
    }

    List<Entry> entries() {
        return new ArrayList<>(byName.values());
    }
}
