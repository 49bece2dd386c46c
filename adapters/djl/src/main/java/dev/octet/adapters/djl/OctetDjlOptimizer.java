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
import dev.octet.kernels.cuda.CudaQuantizedState;
import dev.octet.kernels.cuda.CudaRule;
import dev.octet.kernels.cuda.CudaState;
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
 * float32, in host memory for parameters on the CPU and in GPU memory for parameters on a GPU; DJL's
 * update counts (per parameter and the global maximum its optimizers use as {@code t}). Updates run the
 * fused kernel directly on the tensors' memory: on the CPU at once, on the GPU recorded and launched
 * together at the end of DJL's step ({@link DjlGpuSteps}).
 */
final class OctetDjlOptimizer {

    private static final StepOptions ZERO_GRADIENT =
            StepOptions.DEFAULT.withOutput(StepOptions.Output.APPLY_TO_PARAMS_ZEROING_GRADIENT);

    /** One parameter's state: in host memory ({@code state}) or in GPU memory ({@code gpu}). */
    static final class Entry {
        final String name;
        final long[] shape;
        final Decision decision;
        final OptimizerState state;
        final CudaState gpu;
        final String layerType;
        /** The device of the parameter this state belongs to. */
        final Device device;
        /**
         * A trainer on several devices has a copy of the parameter on each, and DJL's optimizers keep
         * one state per copy: the states of the copies on the other devices than this one's.
         */
        final Map<Device, Entry> replicas = new ConcurrentHashMap<>();
        boolean aliasChecked;

        Entry(String name, long[] shape, Decision decision, OptimizerState state, CudaState gpu, String layerType,
                Device device) {
            this.name = name;
            this.shape = shape;
            this.decision = decision;
            this.state = state;
            this.gpu = gpu;
            this.layerType = layerType;
            this.device = device;
        }

        boolean quantized() {
            return gpu != null ? gpu instanceof CudaQuantizedState : state instanceof QuantizedState;
        }

        int length() {
            return Math.toIntExact(gpu != null ? gpu.length() : state.length());
        }

        int blockSize() {
            return gpu instanceof CudaQuantizedState q ? q.blockSize() : state.blockSize();
        }

        long bytes() {
            return gpu != null ? gpu.bytes() : state.bytes();
        }

        /** The state as host memory: itself on the CPU, a copy of the GPU's (after the queued steps). */
        OptimizerState hostState() {
            if (gpu == null) {
                return state;
            }
            OptimizerState host = gpu.newHostState();
            gpu.download(host);
            return host;
        }

        /**
         * Replaces the state with {@code source}'s (converted where the formats differ), and that of
         * its replicas on other devices.
         */
        void restore(OptimizerState source) {
            replicas.values().forEach(r -> r.restore(source));
            if (gpu == null) {
                state.copyFrom(source);
                return;
            }
            OptimizerState host = gpu.newHostState();
            host.copyFrom(source);
            gpu.upload(host);
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
    /** The GPUs this optimizer keeps state on. */
    private final DjlGpus gpus;

    /** The loads of the model this optimizer trains. */
    DjlLoads loads;

    OctetDjlOptimizer(DjlOptimizerMath math, Model model) {
        this.math = math;
        this.model = new WeakReference<>(model);
        this.modelName = model.getName();
        this.gpus = new DjlGpus(this, modelName, subject());
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
                OctetRuntime.warnOnce("djl-overrides:" + subject() + ":" + ignored, "the policy overrides " + String.join(", ", ignored)
                        + " for " + p.getKey() + " (and maybe others), which DJL's " + math.name() + " does not have; ignored");
            }
            Entry e = allocate(p.getKey(), shape, decision, owner[1], array);
            if (e == null) {
                continue; // DJL's own optimizer keeps this parameter's state (onGpu said why)
            }
            byId.put(param.getId(), e);
            byName.put(p.getKey(), e);
            added.add(e);
        }
        return added;
    }

    /**
     * A fresh state for a parameter whose tensor is {@code array}: in host memory for a CPU tensor, in
     * GPU memory for a GPU tensor (8-bit, or float32 where the policy says so: never float32 first);
     * null when octet cannot use the tensor's GPU.
     */
    private Entry allocate(String name, long[] shape, Decision decision, String layerType, NDArray array) {
        StatisticKind[] kinds = math.statistics();
        int n = Math.toIntExact(array.size());
        Device device = array.getDevice();
        if (device.isGpu()) {
            DjlGpus.OnGpu onGpu = gpus.on(array);
            if (onGpu == null) {
                return null;
            }
            return new Entry(name, shape, decision, null, gpus.allocate(onGpu, decision, n, kinds), layerType, device);
        }
        OptimizerState state = decision.bits() == 8
                ? QuantizedState.allocateDirect(n, decision.blockSize(), kinds)
                : Float32State.allocateDirect(n, kinds);
        return new Entry(name, shape, decision, state, null, layerType, device);
    }

    /**
     * The state of {@code e}'s parameter on {@code array}'s device. A copy on another device gets its
     * state at its first update as DJL's optimizers give it: a copy of the parameter's state as it is
     * then (already moved by this step where the first device's copy was updated first, as DJL does).
     */
    private synchronized Entry onDeviceOf(Entry e, NDArray array) {
        Device device = array.getDevice();
        if (device.equals(e.device)) {
            return e;
        }
        Entry replica = e.replicas.get(device);
        if (replica == null) {
            replica = allocate(e.name, e.shape, e.decision, e.layerType, array);
            if (replica == null) {
                return null;
            }
            launchGpuSteps(); // the state to copy may have an update queued
            replica.restore(e.hostState());
            e.replicas.put(device, replica);
        }
        return replica;
    }

    /** Whether octet can keep state for a tensor on {@code array}'s device. */
    private boolean canHold(NDArray array) {
        return array.getDataType() == DataType.FLOAT32 && (!array.getDevice().isGpu() || gpus.on(array) != null);
    }

    boolean planned() {
        return planned;
    }

    /** This optimizer's model in warn-once keys: a second model of the same name is another subject. */
    private String subject() {
        return modelName + ":" + System.identityHashCode(this);
    }

    /** The model it trains, or null once the job dropped it. */
    Model model() {
        return model.get();
    }

    boolean trains(Model m) {
        return model.get() == m;
    }

    /**
     * One DJL update of one parameter through octet; returns false (DJL updates it itself) when the
     * parameter is not one octet planned for or not a float32 tensor octet can update in place.
     */
    boolean update(String parameterId, NDArray grad, NDArray weight, Consumer<String> log) {
        Entry e = byId.get(parameterId);
        if (e == null && (e = planLate(parameterId, log)) == null) {
            return false;
        }
        e = onDeviceOf(e, weight);
        return e != null && update(e, parameterId, grad, weight, null);
    }

    /**
     * A trainer on several devices ({@code LocalParameterServer} with a copy of each parameter per
     * device): as DJL, every device's gradient is added into the first device's, and each copy is moved
     * with that sum by its own state on its own device (DJL counts each copy's update, as it does); each
     * copy's gradient is then zeroed, as DJL's optimizers zero it. Returns false, before anything changes,
     * when a copy is not a float32 tensor on a device octet can update (then DJL updates every copy).
     */
    boolean updateReplicas(String parameterId, NDArray[] grads, NDArray[] params, Consumer<String> log) {
        Entry primary = byId.get(parameterId);
        if (primary == null && (primary = planLate(parameterId, log)) == null) {
            return false;
        }
        for (NDArray p : params) {
            if (!canHold(p)) {
                OctetRuntime.warnOnce("djl-replica:" + subject() + ":" + p.getDevice(), "a copy of the parameters of"
                        + " model " + modelName + " on " + p.getDevice() + " cannot be updated by octet; DJL's own"
                        + " optimizer updates every copy of them");
                return false;
            }
        }
        Device first = params[0].getDevice();
        for (int i = 1; i < grads.length; i++) {
            try (NDArray copy = grads[i].toDevice(first, true)) {
                grads[0].addi(copy);
            }
        }
        List<NDArray> sums = new ArrayList<>();
        sums.add(grads[0].duplicate());
        boolean queued = false;
        for (int i = 0; i < params.length; i++) {
            NDArray sum = params[i].getDevice().equals(first) ? sums.get(0) : sums.get(0).toDevice(params[i].getDevice(), true);
            if (sum != sums.get(0)) {
                sums.add(sum);
            }
            Entry e = onDeviceOf(primary, params[i]);
            if (e == null || !update(e, parameterId, sum, params[i], grads[i])) {
                throw new IllegalStateException("octet could not update the copy of " + primary.name + " on "
                        + params[i].getDevice() + " after adding up its gradients");
            }
            queued |= e.gpu != null;
        }
        for (NDArray sum : sums) {
            if (sum.getDevice().isGpu()) {
                gpus.on(sum).steps().closeAfterLaunch(List.of(sum)); // its device's launch reads it
            } else {
                sum.close(); // read already: by the CPU update, and by the copies to GPUs (from pageable memory)
            }
        }
        if (queued && !DjlHooks.deferToStepEnd(this)) {
            launchGpuSteps();
        }
        return true;
    }

    /**
     * Updates one copy of a parameter with {@code grad}; {@code ownGradient}, when given, is the copy's own
     * gradient, zeroed after (otherwise {@code grad} is, in the same pass).
     */
    private boolean update(Entry e, String parameterId, NDArray grad, NDArray weight, NDArray ownGradient) {
        if (e.gpu != null) {
            return updateOnGpu(e, parameterId, grad, weight, ownGradient);
        }
        if (weight.getDataType() != DataType.FLOAT32 || grad.getDataType() != DataType.FLOAT32
                || !Device.Type.CPU.equals(weight.getDevice().getDeviceType())
                || !Device.Type.CPU.equals(grad.getDevice().getDeviceType())) {
            OctetRuntime.warnOnce("djl-not-cpu-float:" + subject() + ":" + e.name, "parameter " + e.name + " of model " + modelName + " is not a float32 tensor ("
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
                OctetRuntime.warnOnce("djl-alias:" + subject() + ":" + e.name, "the memory of " + e.name + " cannot be written in place"
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
        if (ownGradient != null) {
            FloatBuffer own = ownGradient.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
            for (int i = 0; i < own.capacity(); i++) {
                own.put(i, 0f); // no array of the tensor's size per step
            }
        }
        return true;
    }

    /**
     * Records one parameter's GPU update; it is launched with the others of the step when DJL's step
     * ends ({@link #launchGpuSteps}), or at once when the job calls the parameter server itself.
     */
    private boolean updateOnGpu(Entry e, String parameterId, NDArray grad, NDArray weight, NDArray ownGradient) {
        DjlGpus.OnGpu onGpu = gpus.on(weight);
        long params;
        long gradient;
        long own;
        try {
            if (weight.getDataType() != DataType.FLOAT32 || grad.getDataType() != DataType.FLOAT32) {
                throw new IllegalArgumentException("it is " + weight.getDataType() + ", octet's kernels take float32");
            }
            params = onGpu.memory().address(weight);
            gradient = onGpu.memory().address(grad);
            own = ownGradient == null ? 0 : onGpu.memory().address(ownGradient);
        } catch (IllegalArgumentException ex) {
            OctetRuntime.warnOnce("djl-gpu-tensor:" + subject() + ":" + e.name, "parameter " + e.name + " of model "
                    + modelName + " cannot be updated in place on " + weight.getDevice() + " (" + ex.getMessage()
                    + "); DJL's own optimizer updates it");
            return false;
        }
        int t = nextCount(e.name);
        UpdateRule rule = math.rule(parameterId, t, e.decision.overrides());
        if (rule == null) {
            return false; // DJL refuses this step; its own update says why
        }
        if (!CudaRule.supports(rule)) {
            throw new IllegalStateException("no CUDA kernel for " + rule.getClass().getName());
        }
        gpus.record(onGpu, e, params, gradient, rule);
        if (own != 0) {
            // Queued before the launch, which reads the gradients' sum, not this.
            onGpu.memory().cuda.zero(own, 4 * ownGradient.size(), 0);
        } else if (!DjlHooks.deferToStepEnd(this)) {
            launchGpuSteps();
        }
        return true;
    }

    /**
     * Launches the GPU updates recorded in this step, on each GPU (DJL's PyTorch optimizers leave the
     * gradient zeroed).
     */
    void launchGpuSteps() {
        gpus.launch(ZERO_GRADIENT);
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
            long before = 4L * statistics * e.length();
            String format = e.quantized() ? String.format(Locale.ROOT, "8-bit, block %d", e.decision.blockSize()) : "float32";
            if (e.gpu != null) {
                format += ", GPU " + e.device;
            }
            report.add(new StartupReport.Row(e.name, e.shape, math.name(), format, e.decision.explanation(), before,
                    e.bytes()));
        }
        List<String> onGpus = entries.stream().filter(e -> e.gpu != null).map(e -> e.device).distinct()
                .map(gpus::describe).toList();
        if (!onGpus.isEmpty()) {
            report.where((entries.stream().allMatch(e -> e.gpu != null) ? "in GPU memory (" : "in host and GPU memory (")
                    + String.join("; ", onGpus) + ")");
        }
        return report;
    }

    List<Entry> entries() {
        return new ArrayList<>(byName.values());
    }
}
