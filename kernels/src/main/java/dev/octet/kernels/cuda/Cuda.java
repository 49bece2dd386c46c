package dev.octet.kernels.cuda;

/**
 * Whether octet's CUDA backend can run in this JVM, asked without touching JCuda's classes (this class
 * refers to none, so it loads where JCuda is absent). Callers ask here, then use {@link CudaBackend#get()}.
 */
public final class Cuda {

    private static final String JCUDA_MISSING =
            "octet CUDA backend unavailable: JCuda (org.jcuda:jcuda) is not on the class path; using the CPU kernels";
    private static volatile String reason;
    private static volatile boolean checked;

    private Cuda() {
    }

    /** True when JCuda, the fatbin, a GPU and a recent enough driver are all there. */
    public static boolean available() {
        return unavailableReason() == null;
    }

    /** One line saying why the backend is absent (it ends "using the CPU kernels"), or null. */
    public static synchronized String unavailableReason() {
        if (!checked) {
            checked = true;
            try {
                Class.forName("jcuda.driver.JCudaDriver", false, Cuda.class.getClassLoader());
                reason = CudaBackend.unavailableReason();
            } catch (ClassNotFoundException | LinkageError e) {
                reason = JCUDA_MISSING;
            }
        }
        return reason;
    }

    /** Why the backend is absent on GPU {@code ordinal} (as {@link #unavailableReason()}), or null. */
    public static String unavailableReason(int ordinal) {
        String problem = unavailableReason();
        return JCUDA_MISSING.equals(problem) ? problem : CudaBackend.unavailableReason(ordinal);
    }
}
