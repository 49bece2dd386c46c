package dev.octet.adapters.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import dev.octet.adapters.core.OctetRuntime;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import dev.octet.kernels.cuda.CudaFloat32State;
import dev.octet.kernels.cuda.CudaQuantizedState;
import dev.octet.kernels.cuda.CudaState;
import dev.octet.policy.Decision;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The GPUs one optimizer keeps state on: per GPU, octet's way to DJL's tensors there
 * ({@link DjlDeviceMemory}) and the updates recorded for the step's launch ({@link DjlGpuSteps}), opened
 * and checked at the first tensor on that GPU; the GPU memory allocated for the optimizer, freed by a
 * {@link Cleaner} once the optimizer is unreachable (DJL tells an optimizer of no end). Recording and
 * launching hold this object's lock.
 */
final class DjlGpus {

    /** octet's hold on one GPU: the way to DJL's tensors there, the step's launches. */
    record OnGpu(DjlDeviceMemory memory, DjlGpuSteps steps) {
    }

    private static final Cleaner CLEANER = Cleaner.create();

    /** Whose GPU memory this is: the Cleaner frees it once the owner is unreachable. */
    private final Object owner;
    private final String modelName;
    private final String subject;
    /** By GPU, once opened; a null value: octet cannot use that GPU (said once). */
    private final Map<Device, OnGpu> gpus = new HashMap<>();
    private GpuMemory owned;

    /**
     * @param owner the optimizer the memory belongs to
     * @param modelName the model's name, for messages
     * @param subject the optimizer in warn-once keys
     */
    DjlGpus(Object owner, String modelName, String subject) {
        this.owner = owner;
        this.modelName = modelName;
        this.subject = subject;
    }

    /** GPU state and launch tables to free, on every GPU; holds nothing that keeps the optimizer reachable. */
    private static final class GpuMemory implements Runnable {
        private final List<DjlGpuSteps> steps = new ArrayList<>();
        private final List<CudaState> states = new ArrayList<>();

        @Override
        public synchronized void run() {
            try {
                steps.forEach(DjlGpuSteps::close); // each waits for its device's launches first
                states.forEach(CudaState::close);
            } catch (RuntimeException | LinkageError e) {
                OctetRuntime.warnOnce("djl-gpu-free", "octet could not free the GPU memory of an optimizer no longer"
                        + " used (" + e + ")");
            }
        }
    }

    /**
     * octet's hold on {@code sample}'s GPU, opened and checked once per GPU; null (with one warning, or an
     * error where the policy says {@code onError: fail}) when octet cannot update tensors there.
     */
    synchronized OnGpu on(NDArray sample) {
        Device device = sample.getDevice();
        if (!gpus.containsKey(device)) {
            DjlDeviceMemory.Opened opened = DjlDeviceMemory.open(sample);
            OnGpu onGpu = null;
            if (opened.memory() == null) {
                String message = "the parameters of model " + modelName + " are on " + device
                        + ", where octet cannot keep their optimizer state: " + opened.problem()
                        + "; DJL's own optimizer keeps its 32-bit state there";
                if (OctetRuntime.policy().onError() == dev.octet.policy.Policy.OnError.FAIL) {
                    throw new IllegalStateException(message + " (the policy says onError: fail)");
                }
                OctetRuntime.warnOnce("djl-gpu:" + subject + ":" + device, message);
            } else {
                onGpu = new OnGpu(opened.memory(), new DjlGpuSteps(opened.memory().cuda));
                if (owned == null) {
                    owned = new GpuMemory();
                    CLEANER.register(owner, owned);
                }
                synchronized (owned) {
                    owned.steps.add(onGpu.steps());
                }
            }
            gpus.put(device, onGpu);
        }
        return gpus.get(device);
    }

    /** Fresh state of {@code n} elements in {@code gpu}'s memory: 8-bit, or float32 where {@code decision} says so. */
    CudaState allocate(OnGpu gpu, Decision decision, int n, StatisticKind[] kinds) {
        CudaState state = decision.bits() == 8
                ? CudaQuantizedState.allocate(gpu.memory().cuda, n, decision.blockSize(), kinds)
                : CudaFloat32State.allocate(gpu.memory().cuda, n, kinds);
        synchronized (owned) {
            owned.states.add(state);
        }
        return state;
    }

    /** Records one parameter's update on {@code gpu}, for the next {@link #launch}. */
    synchronized void record(OnGpu gpu, OctetDjlOptimizer.Entry e, long params, long gradient, UpdateRule rule) {
        gpu.steps().add(e, params, gradient, rule);
    }

    /** Launches the updates recorded on each GPU since the last launch. */
    synchronized void launch(StepOptions options) {
        for (OnGpu onGpu : gpus.values()) {
            if (onGpu != null) {
                onGpu.steps().launch(options);
            }
        }
    }

    /** The GPU {@code device} in words, for the report. */
    synchronized String describe(Device device) {
        return device + ": " + gpus.get(device).memory().cuda.description();
    }
}
