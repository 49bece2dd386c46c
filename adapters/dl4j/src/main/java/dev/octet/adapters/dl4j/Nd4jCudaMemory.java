package dev.octet.adapters.dl4j;

import dev.octet.kernels.cuda.Cuda;
import dev.octet.kernels.cuda.CudaBackend;
import java.lang.reflect.Method;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ND4J's CUDA backend ({@code nd4j-cuda-11.x} 1.0.0-M2.x), as octet's CUDA kernels need it: an array's
 * device address, the stream ND4J runs its ops on, and ND4J's bookkeeping of which copy of an array
 * (host or device) is current. The backend's classes are reached by reflection, so octet builds
 * against nd4j-api alone; the names are those of M2.1's nd4j-cuda (AtomicAllocator, CudaContext).
 *
 * <p>What ND4J guarantees, read from its M2.1 sources: the runtime API it links statically works in the
 * device's primary context, the one octet's JCuda backend uses, so its device pointers are valid for
 * octet's kernels; {@code AtomicAllocator.getPointer(array, context)} already includes a view's offset
 * and copies nothing (hence {@code ensureLocation(DEVICE)} first); {@code CudaContext.getCublasStream()}
 * is the thread's execution stream itself ({@code getOldStream()} is a pointer to it). After octet's
 * kernel writes an array, {@code tagLocation(DEVICE)} tells ND4J that the device copy is newer, so that
 * ND4J's next host read (printing, {@code ModelSerializer}) copies it back after synchronizing that stream.
 *
 * <p>Not run: no machine here has ND4J's CUDA backend (its natives are far larger than what the GPU
 * machine can be sent). What rests on it is tested with JCuda buffers standing in for ND4J's
 * ({@code CudaUpdateGroupGpuTest}).
 */
final class Nd4jCudaMemory {

    /**
     * The members of ND4J's CUDA classes octet calls, looked up without initializing any class (a test
     * checks them against the nd4j-cuda-11.6 1.0.0-M2.1 jar).
     */
    record Api(Method allocatorInstance, Method deviceContext, Method pointerOf, Method cublasStream, Method address) {

        static Api resolve(ClassLoader loader) throws ReflectiveOperationException {
            Class<?> allocator = Class.forName("org.nd4j.jita.allocator.impl.AtomicAllocator", false, loader);
            Class<?> context = Class.forName("org.nd4j.linalg.jcublas.context.CudaContext", false, loader);
            return new Api(allocator.getMethod("getInstance"), allocator.getMethod("getDeviceContext"),
                    allocator.getMethod("getPointer", INDArray.class, context), context.getMethod("getCublasStream"),
                    Class.forName("org.bytedeco.javacpp.Pointer", false, loader).getMethod("address"));
        }
    }

    private final Api api;
    private final Object allocator;
    private final CudaBackend cuda;

    private Nd4jCudaMemory(Api api, Object allocator, CudaBackend cuda) {
        this.api = api;
        this.allocator = allocator;
        this.cuda = cuda;
    }

    /** ND4J's CUDA backend in this JVM, ready for octet's kernels. */
    static Nd4jCudaMemory open() throws Unavailable {
        String reason = Cuda.unavailableReason();
        if (reason != null) {
            throw new Unavailable(reason);
        }
        CudaBackend cuda = CudaBackend.get();
        AffinityManager affinity = Nd4j.getAffinityManager();
        if (affinity.getNumberOfDevices() > 1 || affinity.getDeviceForCurrentThread() != cuda.deviceOrdinal()) {
            throw new Unavailable("ND4J uses " + affinity.getNumberOfDevices() + " GPUs (this thread device "
                    + affinity.getDeviceForCurrentThread() + "); octet's DL4J adapter drives one GPU, device "
                    + cuda.deviceOrdinal() + " (-Doctet.cuda.device)");
        }
        try {
            Api api = Api.resolve(Nd4j.getBackend().getClass().getClassLoader());
            Nd4jCudaMemory memory = new Nd4jCudaMemory(api, api.allocatorInstance().invoke(null), cuda);
            // Every call once, on a small array, before any decision is made: a failure here leaves the
            // job on DL4J's own updaters, where one inside an update block could not.
            INDArray probe = Nd4j.zeros(DataType.FLOAT, 4);
            memory.onDevice(probe);
            if (memory.address(probe) == 0) {
                throw new Unavailable("ND4J gave no device address for an array");
            }
            memory.stream();
            memory.deviceWrote(probe);
            return memory;
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            throw new Unavailable("ND4J's CUDA backend is not the one octet knows (" + e + ")");
        }
    }

    CudaBackend cuda() {
        return cuda;
    }

    /** Makes the device copy of each array current (copies host to device only where the host is newer). */
    void onDevice(INDArray... arrays) {
        for (INDArray a : arrays) {
            Nd4j.getAffinityManager().ensureLocation(a, AffinityManager.Location.DEVICE);
        }
    }

    /** Records that octet's kernel wrote the device copy of an array. */
    void deviceWrote(INDArray array) {
        Nd4j.getAffinityManager().tagLocation(array, AffinityManager.Location.DEVICE);
    }

    /** The device address of an array's first element (a view's offset included). */
    long address(INDArray array) {
        try {
            return (long) api.address().invoke(api.pointerOf().invoke(allocator, array, api.deviceContext().invoke(allocator)));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("ND4J's device pointer of an array", e);
        }
    }

    /** The raw CUDA stream ND4J runs this thread's ops on. */
    long stream() {
        try {
            return (long) api.address().invoke(api.cublasStream().invoke(api.deviceContext().invoke(allocator)));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("ND4J's CUDA stream", e);
        }
    }

    /** Why octet cannot drive ND4J's CUDA backend in this JVM. */
    static final class Unavailable extends Exception {
        Unavailable(String reason) {
            super(reason);
        }
    }
}
