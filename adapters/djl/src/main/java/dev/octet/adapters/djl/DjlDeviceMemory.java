package dev.octet.adapters.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.octet.kernels.cuda.Cuda;
import dev.octet.kernels.cuda.CudaBackend;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Device addresses of the PyTorch engine's GPU tensors, so that octet's CUDA kernels update DJL's
 * parameters and gradients in place. DJL 0.35.1 has no public way to them: its Java side copies a GPU
 * tensor to the host before handing out a buffer, but its native {@code torchDirectByteBuffer(handle)}
 * itself wraps {@code tensor.data_ptr()} in a direct buffer whatever the device. octet calls that
 * native method (package-private in {@code ai.djl.pytorch.jni.PyTorchLibrary}, reached by reflection in
 * the class loader that loaded the job's DJL) and reads the buffer's address, never its contents: on
 * the host that memory does not exist. One instance per GPU, with octet's backend on that GPU (DJL's
 * {@code gpu(n)} is the driver's device n, as both number the devices CUDA_VISIBLE_DEVICES leaves).
 *
 * <p>{@link #open} checks the whole path once on a small tensor of the device: values written by DJL
 * are read back through octet's CUDA context, and values octet writes are seen by DJL. Where any part
 * is missing (another DJL build, a module path that forbids the reflection, a GPU octet cannot use),
 * it says why, and the caller leaves the job on DJL's own optimizer.
 */
final class DjlDeviceMemory {

    /** torchDirectByteBuffer refuses tensors of 2 GiB or more; those are addressed through a view. */
    private static final long DIRECT_BUFFER_LIMIT = Integer.MAX_VALUE;

    private final MethodHandle handle;
    private final MethodHandle directBuffer;
    private final MethodHandle contiguous;
    private final BufferAddress bufferAddress;
    final CudaBackend cuda;
    final Device device;

    private DjlDeviceMemory(MethodHandle handle, MethodHandle directBuffer, MethodHandle contiguous,
            BufferAddress bufferAddress, CudaBackend cuda, Device device) {
        this.handle = handle;
        this.directBuffer = directBuffer;
        this.contiguous = contiguous;
        this.bufferAddress = bufferAddress;
        this.cuda = cuda;
        this.device = device;
    }

    /** What {@link #open} found: the device memory, or why there is none. */
    record Opened(DjlDeviceMemory memory, String problem) {
    }

    /** Finds and checks the way to the device memory of {@code sample}'s engine and device. */
    static Opened open(NDArray sample) {
        Device device = sample.getDevice();
        String unavailable = Cuda.unavailableReason(device.getDeviceId());
        if (unavailable != null) {
            return new Opened(null, unavailable.replace("; using the CPU kernels", ""));
        }
        CudaBackend cuda = CudaBackend.get(device.getDeviceId());
        DjlDeviceMemory memory;
        try {
            ClassLoader loader = sample.getClass().getClassLoader();
            Class<?> library = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary", false, loader);
            Field lib = library.getDeclaredField("LIB");
            lib.setAccessible(true);
            Object instance = lib.get(null);
            Method direct = library.getDeclaredMethod("torchDirectByteBuffer", long.class);
            Method isContiguous = library.getDeclaredMethod("torchIsContiguous", long.class);
            direct.setAccessible(true);
            isContiguous.setAccessible(true);
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            Method getHandle = sample.getClass().getMethod("getHandle");
            memory = new DjlDeviceMemory(
                    lookup.unreflect(getHandle).asType(MethodType.methodType(Object.class, NDArray.class)),
                    lookup.unreflect(direct).bindTo(instance),
                    lookup.unreflect(isContiguous).bindTo(instance),
                    BufferAddress.find(), cuda, device);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return new Opened(null, "DJL's PyTorch engine does not give octet the device address of its tensors here ("
                    + e + ")");
        }
        String problem = memory.roundTrip(sample.getManager());
        return problem == null ? new Opened(memory, null) : new Opened(null, problem);
    }

    /** Null when octet and DJL see the same values through the address; else what went wrong. */
    private String roundTrip(NDManager manager) {
        float[] djlWrote = {1.5f, -2.25f, 3f, 42f, Float.MIN_VALUE};
        try (NDManager scratch = manager.newSubManager(device); NDArray probe = scratch.create(djlWrote)) {
            long address = address(probe);
            float[] octetRead = new float[djlWrote.length];
            cuda.copyToHost(octetRead, address);
            if (!Arrays.equals(octetRead, djlWrote)) {
                return "a tensor DJL wrote on " + device + " read back as " + Arrays.toString(octetRead)
                        + " through its address (expected " + Arrays.toString(djlWrote) + ")";
            }
            float[] octetWrote = {-7f, 0.125f, 1e-30f, -0f, 65504f};
            cuda.copyToDevice(address, octetWrote);
            float[] djlRead = probe.toFloatArray();
            if (!Arrays.equals(djlRead, octetWrote)) {
                return "values octet wrote on " + device + " read in DJL as " + Arrays.toString(djlRead);
            }
            return null;
        } catch (RuntimeException | Error e) {
            return "checking the device address of a DJL tensor on " + device + " failed (" + e + ")";
        }
    }

    /**
     * The device address of {@code array}'s first element. Throws {@link IllegalArgumentException} for
     * a tensor that is not contiguous or not on this device.
     */
    long address(NDArray array) {
        if (!device.equals(array.getDevice())) {
            throw new IllegalArgumentException("the tensor is on " + array.getDevice() + ", not " + device);
        }
        try {
            long h = handleOf(array);
            if (!(boolean) contiguous.invokeExact(h)) {
                throw new IllegalArgumentException("the tensor is not contiguous");
            }
            if (4 * array.size() < DIRECT_BUFFER_LIMIT) {
                return bufferAddress.of((ByteBuffer) directBuffer.invokeExact(h));
            }
            // A contiguous view of the first element starts where the tensor does.
            try (NDArray flat = array.reshape(-1); NDArray first = flat.get(0)) {
                long f = handleOf(first);
                return bufferAddress.of((ByteBuffer) directBuffer.invokeExact(f));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private long handleOf(NDArray array) throws Throwable {
        Object h = handle.invokeExact(array);
        return (Long) h;
    }

    /**
     * The address a direct buffer wraps, read from {@code java.nio.Buffer.address} through
     * {@code sun.misc.Unsafe} (module {@code jdk.unsupported}): JNI's GetDirectBufferAddress has no
     * Java counterpart, and java.base does not open the field to reflection.
     */
    private static final class BufferAddress {
        private final sun.misc.Unsafe unsafe;
        private final long offset;

        private BufferAddress(sun.misc.Unsafe unsafe, long offset) {
            this.unsafe = unsafe;
            this.offset = offset;
        }

        static BufferAddress find() throws ReflectiveOperationException {
            Field theUnsafe = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            theUnsafe.setAccessible(true);
            sun.misc.Unsafe unsafe = (sun.misc.Unsafe) theUnsafe.get(null);
            return new BufferAddress(unsafe, unsafe.objectFieldOffset(Buffer.class.getDeclaredField("address")));
        }

        long of(ByteBuffer buffer) {
            return unsafe.getLong(buffer, offset);
        }
    }
}
