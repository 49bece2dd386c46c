package dev.octet.adapters.djl;

import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import dev.octet.kernels.cuda.CudaBackend;
import dev.octet.kernels.cuda.CudaQuantizedState;
import dev.octet.kernels.cuda.CudaTensorGroup;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The GPU updates of one optimizer's parameters in one DJL step: DJL hands octet one parameter at a
 * time ({@code LocalParameterServer.update}); octet only records it (the tensors' device addresses and
 * the step's rule) and, when DJL's {@code ParameterStore.updateAllParameters} returns, launches all of
 * them at once: one {@link CudaTensorGroup} step per distinct rule and 8-bit block size, normally one
 * launch for the whole model (plus one for the parameters a policy keeps float32). The launches go to
 * the device's legacy default stream, the one PyTorch computes gradients on unless a job sets another,
 * so they run after the backward pass and before the next forward pass without any synchronization.
 *
 * <p>The groups' descriptor tables (device addresses of parameters, gradients and state) are uploaded
 * once and reused while the addresses stay (PyTorch keeps a parameter's gradient tensor between steps).
 */
final class DjlGpuSteps implements AutoCloseable {

    /** One parameter's update of this step. */
    private record Pending(OctetDjlOptimizer.Entry entry, long params, long grad, UpdateRule rule) {
    }

    private final CudaBackend cuda;
    private final List<Pending> pending = new ArrayList<>();
    /** Framework tensors the recorded updates read (temporaries of DJL's step), closed once launched. */
    private final List<AutoCloseable> closeAfterLaunch = new ArrayList<>();
    /** Groups by the entries and addresses they were built for. */
    private Map<List<Object>, CudaTensorGroup> groups = new HashMap<>();

    DjlGpuSteps(CudaBackend cuda) {
        this.cuda = cuda;
    }

    void add(OctetDjlOptimizer.Entry entry, long params, long grad, UpdateRule rule) {
        pending.add(new Pending(entry, params, grad, rule));
    }

    void closeAfterLaunch(List<? extends AutoCloseable> temporaries) {
        closeAfterLaunch.addAll(temporaries);
    }

    /** Launches the recorded updates (asynchronously, on the default stream). */
    void launch(StepOptions options) {
        if (pending.isEmpty()) {
            return;
        }
        Map<List<Object>, List<Pending>> parts = new LinkedHashMap<>();
        for (Pending p : pending) {
            int blockSize = p.entry().gpu instanceof CudaQuantizedState q ? q.blockSize() : 0;
            parts.computeIfAbsent(List.of(p.rule(), blockSize), k -> new ArrayList<>()).add(p);
        }
        pending.clear();
        Map<List<Object>, CudaTensorGroup> used = new HashMap<>();
        for (Map.Entry<List<Object>, List<Pending>> part : parts.entrySet()) {
            List<Object> signature = new ArrayList<>();
            List<CudaTensorGroup.Entry> tensors = new ArrayList<>();
            for (Pending p : part.getValue()) {
                signature.add(p.entry());
                signature.add(p.params());
                signature.add(p.grad());
                tensors.add(new CudaTensorGroup.Entry(p.params(), p.grad(), p.entry().gpu));
            }
            CudaTensorGroup group = groups.remove(signature);
            if (group == null) {
                group = new CudaTensorGroup(cuda, tensors);
            }
            group.step((UpdateRule) part.getKey().get(0), options, 0);
            used.put(signature, group);
        }
        if (!groups.isEmpty()) {
            // Tables of another set of tensors than this step's: the launches just queued do not read
            // them, but earlier ones may still, so wait before freeing.
            cuda.synchronize(0);
            groups.values().forEach(CudaTensorGroup::close);
        }
        groups = used;
        // Freed into PyTorch's caching allocator, whose next user of that memory on this stream comes
        // after the launches just queued.
        for (AutoCloseable t : closeAfterLaunch) {
            try {
                t.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        closeAfterLaunch.clear();
    }

    /** Frees the launch tables, once the device has run the launches that read them. */
    @Override
    public void close() {
        cuda.synchronize(0);
        pending.clear();
        groups.values().forEach(CudaTensorGroup::close);
        groups.clear();
    }
}
