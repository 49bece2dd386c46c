package dev.octet.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import dev.octet.kernels.QuantizationMap;
import dev.octet.kernels.StatisticKind;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * octet's CUDA backend on one GPU, through JCuda's driver API: the device's primary context (the one the
 * CUDA runtime, and so every framework, uses: octet's allocations and launches live beside the
 * framework's tensors), the kernel module loaded from the class-path fatbin, the search tables on the
 * device, and launches on the stream a caller names. One backend per GPU a job uses ({@link #get(int)});
 * each call makes its device's context current on the calling thread first, so one thread may use
 * several GPUs in turn.
 *
 * <p>Use {@link #available()} / {@link #unavailableReason(int)} first: without JCuda on the class path, the
 * fatbin (nvcc was missing at build time), a GPU, a driver for CUDA 12 or a GPU of compute capability
 * 8.0 or more, the backend is absent and says why in one line; callers keep the CPU path then.
 *
 * <p>Device memory is addressed by raw {@code long} addresses throughout, as frameworks hand them out
 * (ND4J's {@code AtomicAllocator.getPointer(...).address()}); streams by their raw {@code CUstream}
 * handle, 0 for the legacy default stream.
 */
public final class CudaBackend {

    /** Class-path location of the fatbin the Maven build makes with nvcc. */
    public static final String FATBIN_RESOURCE = "/dev/octet/kernels/cuda/octet_kernels.fatbin";
    static final int MIN_DRIVER_VERSION = 12000;
    static final int MIN_COMPUTE_CAPABILITY = 80;

    /** The driver-level probe: null once JCuda, the fatbin, the driver and a GPU are there, else why not. */
    private static String driverProblem;
    private static boolean driverProbed;
    private static byte[] fatbin;
    private static int deviceCount;
    private static int driverVersion;
    /** Each device opened so far, and why others could not be. */
    private static final Map<Integer, CudaBackend> devices = new HashMap<>();
    private static final Map<Integer, String> deviceProblems = new HashMap<>();

    private final CUcontext context;
    private final CUmodule module;
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<String, Integer> occupancy = new HashMap<>();
    private final Map<String, Long> tables = new HashMap<>();
    private final String description;
    private final int multiprocessors;
    private final int ordinal;

    private CudaBackend(CUcontext context, CUmodule module, String description, int multiprocessors, int ordinal) {
        this.context = context;
        this.module = module;
        this.description = description;
        this.multiprocessors = multiprocessors;
        this.ordinal = ordinal;
    }

    /** The device octet uses where a framework does not say: {@code -Doctet.cuda.device}, default 0. */
    public static int defaultOrdinal() {
        return Integer.getInteger("octet.cuda.device", 0);
    }

    /** Whether the backend can run here on the default device (probes once). */
    public static synchronized boolean available() {
        return unavailableReason() == null;
    }

    /** Why the backend is absent on the default device, or null when it is available. */
    public static synchronized String unavailableReason() {
        return unavailableReason(defaultOrdinal());
    }

    /** Why the backend is absent on GPU {@code ordinal}, or null when it is available there (opens it once). */
    public static synchronized String unavailableReason(int ordinal) {
        open(ordinal);
        return devices.containsKey(ordinal) ? null : deviceProblems.get(ordinal);
    }

    /** The number of GPUs the driver sees (0 where the backend is absent). */
    public static synchronized int deviceCount() {
        probeDriver();
        return driverProblem == null ? deviceCount : 0;
    }

    /** The backend on the default device; throws {@link IllegalStateException} with the reason when absent. */
    public static synchronized CudaBackend get() {
        return get(defaultOrdinal());
    }

    /**
     * The backend on GPU {@code ordinal} (its primary context, its own copy of the kernels and tables),
     * current on the calling thread; throws {@link IllegalStateException} with the reason when absent.
     */
    public static synchronized CudaBackend get(int ordinal) {
        String problem = unavailableReason(ordinal);
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
        CudaBackend backend = devices.get(ordinal);
        backend.makeCurrent();
        return backend;
    }

    private static void open(int ordinal) {
        if (devices.containsKey(ordinal) || deviceProblems.containsKey(ordinal)) {
            return;
        }
        probeDriver();
        String problem = driverProblem;
        if (problem == null) {
            try {
                devices.put(ordinal, openDevice(ordinal));
                return;
            } catch (Unavailable e) {
                problem = e.getMessage();
            } catch (CudaException e) {
                problem = String.valueOf(e.getMessage());
            }
        }
        deviceProblems.put(ordinal, "octet CUDA backend unavailable: " + problem + "; using the CPU kernels");
    }

    private static void probeDriver() {
        if (driverProbed) {
            return;
        }
        driverProbed = true;
        try {
            openDriver();
        } catch (Unavailable e) {
            driverProblem = e.getMessage();
        } catch (LinkageError e) {
            String text = String.valueOf(e.getMessage());
            driverProblem = text.contains("libcuda.so")
                    ? "no NVIDIA driver here (libcuda.so.1 cannot be loaded)"
                    : "JCuda's native library could not be loaded (" + text.lines().findFirst().orElse(text) + ")";
        } catch (CudaException e) {
            driverProblem = String.valueOf(e.getMessage());
        }
    }

    private static final class Unavailable extends Exception {
        Unavailable(String message) {
            super(message);
        }
    }

    private static void openDriver() throws Unavailable {
        try {
            Class.forName("jcuda.driver.JCudaDriver", false, CudaBackend.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new Unavailable("JCuda (org.jcuda:jcuda) is not on the class path");
        }
        fatbin = readFatbin();
        JCudaDriver.setExceptionsEnabled(false);
        int rc = cuInit(0);
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new Unavailable("no usable GPU (cuInit: " + CUresult.stringFor(rc) + ")");
        }
        int[] count = {0};
        check(cuDeviceGetCount(count), "cuDeviceGetCount");
        if (count[0] == 0) {
            throw new Unavailable("no GPU found");
        }
        int[] version = {0};
        check(cuDriverGetVersion(version), "cuDriverGetVersion");
        if (version[0] < MIN_DRIVER_VERSION) {
            throw new Unavailable("the NVIDIA driver supports CUDA " + version[0] / 1000 + "." + version[0] % 1000 / 10
                    + ", octet needs 12.0 or newer");
        }
        deviceCount = count[0];
        driverVersion = version[0];
    }

    private static CudaBackend openDevice(int ordinal) throws Unavailable {
        if (ordinal < 0 || ordinal >= deviceCount) {
            throw new Unavailable("there is no GPU " + ordinal + " (the driver sees " + deviceCount + ")");
        }
        CUdevice device = new CUdevice();
        check(cuDeviceGet(device, ordinal), "cuDeviceGet");
        int[] major = {0};
        int[] minor = {0};
        int[] sms = {0};
        check(cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device), "attr");
        check(cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device), "attr");
        check(cuDeviceGetAttribute(sms, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device), "attr");
        byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, device);
        String deviceName = new String(name).trim().replace("\0", "");
        if (major[0] * 10 + minor[0] < MIN_COMPUTE_CAPABILITY) {
            throw new Unavailable(deviceName + " has compute capability " + major[0] + "." + minor[0]
                    + ", octet's kernels need 8.0 or newer");
        }
        CUcontext context = new CUcontext();
        check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
        CUmodule module = new CUmodule();
        int rc = cuModuleLoadData(module, fatbin);
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new Unavailable("the kernel module did not load on " + deviceName + " (" + CUresult.stringFor(rc) + ")");
        }
        String description = deviceName + ", compute capability " + major[0] + "." + minor[0] + ", " + sms[0]
                + " multiprocessors, driver CUDA " + driverVersion / 1000 + "." + driverVersion % 1000 / 10;
        return new CudaBackend(context, module, description, sms[0], ordinal);
    }

    private static byte[] readFatbin() throws Unavailable {
        String override = System.getProperty("octet.cuda.fatbin");
        try {
            if (override != null) {
                return Files.readAllBytes(Path.of(override));
            }
            try (InputStream in = CudaBackend.class.getResourceAsStream(FATBIN_RESOURCE)) {
                if (in == null) {
                    throw new Unavailable("this build has no CUDA kernels (" + FATBIN_RESOURCE
                            + " is missing: nvcc was not found when octet was built)");
                }
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new Unavailable("cannot read the CUDA kernels: " + e.getMessage());
        }
    }

    static void check(int rc, String what) {
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new CudaException(what + " failed: " + CUresult.stringFor(rc));
        }
    }

    /** The device, in words. */
    public String description() {
        return description;
    }

    public int multiprocessors() {
        return multiprocessors;
    }

    /** The device's ordinal, as the driver (and CUDA_VISIBLE_DEVICES) numbers it. */
    public int deviceOrdinal() {
        return ordinal;
    }

    /** Makes the primary context current on the calling thread (every entry point does). */
    public void makeCurrent() {
        check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    // ---- memory, by raw address ----

    /** A device pointer object for a raw address (JCuda's own type, for its memory calls). */
    static CUdeviceptr ptr(long address) {
        return new Address(address);
    }

    private static final class Address extends CUdeviceptr {
        private static final CUdeviceptr NULL = new CUdeviceptr();

        Address(long address) {
            super(NULL, address);
        }

        Address() {
        }

        long address() {
            return getNativePointer() + getByteOffset();
        }
    }

    /** Allocates device memory (not initialized). */
    public long allocate(long bytes) {
        makeCurrent();
        Address a = new Address();
        check(cuMemAlloc(a, Math.max(bytes, 1)), "cuMemAlloc(" + bytes + ")");
        return a.address();
    }

    public void free(long address) {
        if (address != 0) {
            makeCurrent();
            check(cuMemFree(ptr(address)), "cuMemFree");
        }
    }

    /** Sets bytes to zero, in order on the stream. */
    public void zero(long address, long bytes, long stream) {
        makeCurrent();
        check(cuMemsetD8Async(ptr(address), (byte) 0, bytes, stream(stream)), "cuMemsetD8Async");
    }

    public void copyToDevice(long address, byte[] src, int offset, int length) {
        makeCurrent();
        check(cuMemcpyHtoD(ptr(address), Pointer.to(src).withByteOffset(offset), length), "cuMemcpyHtoD");
    }

    public void copyToDevice(long address, float[] src) {
        makeCurrent();
        check(cuMemcpyHtoD(ptr(address), Pointer.to(src), 4L * src.length), "cuMemcpyHtoD");
    }

    /** Copies a buffer's whole capacity (heap or direct) to the device. */
    public void copyToDevice(long address, ByteBuffer src, long bytes) {
        makeCurrent();
        check(cuMemcpyHtoD(ptr(address), Pointer.to(src), bytes), "cuMemcpyHtoD");
    }

    public void copyToHost(byte[] dst, int offset, int length, long address) {
        makeCurrent();
        check(cuMemcpyDtoH(Pointer.to(dst).withByteOffset(offset), ptr(address), length), "cuMemcpyDtoH");
    }

    public void copyToHost(float[] dst, long address) {
        makeCurrent();
        check(cuMemcpyDtoH(Pointer.to(dst), ptr(address), 4L * dst.length), "cuMemcpyDtoH");
    }

    public void synchronize(long stream) {
        makeCurrent();
        check(cuStreamSynchronize(stream(stream)), "cuStreamSynchronize");
    }

    // ---- streams ----

    private static final Constructor<CUstream> STREAM_OF_HANDLE = streamConstructor();

    private static Constructor<CUstream> streamConstructor() {
        try {
            Constructor<CUstream> c = CUstream.class.getDeclaredConstructor(long.class);
            c.setAccessible(true);
            return c;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * JCuda's stream object for a raw handle (0: the legacy default stream). JCuda makes one only from
     * its own calls; its package-private constructor from a handle is used for a framework's streams.
     */
    public static CUstream stream(long handle) {
        if (handle == 0) {
            return null;
        }
        if (STREAM_OF_HANDLE == null) {
            throw new IllegalStateException("this JCuda version cannot wrap a raw stream handle");
        }
        try {
            return STREAM_OF_HANDLE.newInstance(handle);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot wrap stream handle " + handle, e);
        }
    }

    /** A new stream of octet's own (for tests and benchmarks); its raw handle. */
    public long createStream() {
        makeCurrent();
        OwnStream s = new OwnStream();
        check(JCudaDriver.cuStreamCreate(s, 0), "cuStreamCreate");
        return s.handle();
    }

    private static final class OwnStream extends CUstream {
        long handle() {
            return getNativePointer();
        }
    }

    // ---- tables and launches ----

    /** The device copy of a map's search tables (uploaded once, kept for the backend's life). */
    synchronized long table(QuantizationMap map, boolean keepSign, boolean keepPositive) {
        String key = System.identityHashCode(map) + ":" + map.name() + ":" + keepSign + ":" + keepPositive;
        Long address = tables.get(key);
        if (address == null) {
            byte[] bytes = CudaTables.of(map, keepSign, keepPositive).bytes();
            address = allocate(bytes.length);
            copyToDevice(address, bytes, 0, bytes.length);
            tables.put(key, address);
        }
        return address;
    }

    /** The tables of a statistic of this kind; {@code divisor}: a rule divides by it (UpdateRule#divides). */
    long table(StatisticKind kind, boolean divisor) {
        return table(kind.map(), kind.keepsSign(), divisor);
    }

    synchronized CUfunction function(String name) {
        return functions.computeIfAbsent(name, n -> {
            CUfunction f = new CUfunction();
            check(cuModuleGetFunction(f, module, n), "cuModuleGetFunction(" + n + ")");
            return f;
        });
    }

    /**
     * Threads per CTA of the block loops (a power of two, 32 to 512, the kernels' launch bound: the agent
     * checks {@code -Doctet.cuda.threads}; default 256).
     */
    static final int CTA_THREADS = Integer.getInteger("octet.cuda.threads", 256);

    /**
     * Threads per CTA for a block size: G = B/8 threads a block; CTA_THREADS when a group fits a warp,
     * else exactly one group a CTA. (A group larger than a warp reduces its absmax through shared memory
     * with CTA-wide barriers, so it must have the CTA to itself: with two such groups a CTA, as blocks of
     * 512 and 1024 once had, the second group read the first one's partial maxima.)
     */
    static int threadsPerCta(int blockSize) {
        int group = blockSize / 8;
        return group > 32 ? group : CTA_THREADS;
    }

    /** A persistent grid: as many CTAs as fit on the device at once, fewer if there is less work. */
    synchronized int grid(String kernel, int threads, long totalBlocks, int blocksPerCta) {
        return grid(kernel, threads, totalBlocks, blocksPerCta, 0);
    }

    /** The same, for a kernel that takes {@code sharedBytes} of dynamic shared memory per CTA. */
    synchronized int grid(String kernel, int threads, long totalBlocks, int blocksPerCta, int sharedBytes) {
        int perSm = occupancy.computeIfAbsent(kernel + "/" + threads + "/" + sharedBytes, k -> {
            CUfunction f = function(kernel);
            if (sharedBytes > 0) {
                check(JCudaDriver.cuFuncSetAttribute(f,
                        jcuda.driver.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes),
                        "cuFuncSetAttribute(" + kernel + ", " + sharedBytes + " bytes of dynamic shared memory)");
            }
            int[] n = {0};
            check(cuOccupancyMaxActiveBlocksPerMultiprocessor(n, f, threads, sharedBytes), "occupancy");
            return Math.max(1, n[0]);
        });
        long needed = (totalBlocks + blocksPerCta - 1) / blocksPerCta;
        return (int) Math.max(1, Math.min(needed, (long) perSm * multiprocessors));
    }

    // ---- for benchmarks: data made on the device, device copies, timing with CUDA events ----

    /** Fills {@code n} floats at {@code address} with pseudo-random values in [-scale, scale), on {@code stream}. */
    public void fillRandom(long address, long n, int seed, float scale, long stream) {
        launch("octet_fill_random", 4 * multiprocessors, 256, stream, address, n, seed, scale);
    }

    /** Queues a copy of {@code bytes} from device address {@code from} to {@code to} on {@code stream}. */
    public void copyAsync(long to, long from, long bytes, long stream) {
        makeCurrent();
        check(JCudaDriver.cuMemcpyDtoDAsync(ptr(to), ptr(from), bytes, stream(stream)), "cuMemcpyDtoDAsync");
    }

    /** Milliseconds the GPU spends on what {@code work} queues on {@code stream}, measured with CUDA events. */
    public float elapsedMs(long stream, Runnable work) {
        makeCurrent();
        CUevent start = new CUevent();
        CUevent stop = new CUevent();
        check(JCudaDriver.cuEventCreate(start, 0), "cuEventCreate");
        check(JCudaDriver.cuEventCreate(stop, 0), "cuEventCreate");
        try {
            check(JCudaDriver.cuEventRecord(start, stream(stream)), "cuEventRecord");
            work.run();
            check(JCudaDriver.cuEventRecord(stop, stream(stream)), "cuEventRecord");
            check(JCudaDriver.cuEventSynchronize(stop), "cuEventSynchronize");
            float[] ms = {0};
            check(JCudaDriver.cuEventElapsedTime(ms, start, stop), "cuEventElapsedTime");
            return ms[0];
        } finally {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(stop);
        }
    }

    /** Launches a kernel; each argument is an int, long (also device addresses), float or byte[] struct. */
    void launch(String kernel, int grid, int threads, long stream, Object... args) {
        launchShared(kernel, grid, threads, 0, stream, args);
    }

    /** {@link #launch} with {@code sharedBytes} of dynamic shared memory per CTA. */
    void launchShared(String kernel, int grid, int threads, int sharedBytes, long stream, Object... args) {
        makeCurrent();
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a instanceof Integer v) {
                params[i] = Pointer.to(new int[] {v});
            } else if (a instanceof Long v) {
                params[i] = Pointer.to(new long[] {v});
            } else if (a instanceof Float v) {
                params[i] = Pointer.to(new float[] {v});
            } else if (a instanceof byte[] v) {
                params[i] = Pointer.to(v);
            } else {
                throw new IllegalArgumentException("kernel argument " + i + ": " + a);
            }
        }
        check(cuLaunchKernel(function(kernel), grid, 1, 1, threads, 1, 1, sharedBytes, stream(stream), Pointer.to(params),
                null),
                "launch " + kernel);
    }
}
