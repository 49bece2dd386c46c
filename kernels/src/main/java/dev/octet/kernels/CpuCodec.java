package dev.octet.kernels;

/**
 * Which implementation of the CPU codec's hot loops (nearest-code search, absmax, Adam's floor) this JVM runs: the scalar Java one (always
 * there) or the SIMD one ({@link VectorCodec}, the JDK Vector API). Both give the same codes and absmax
 * bit for bit; the SIMD one is faster (docs/kernels.md).
 *
 * <p>The SIMD codec needs the incubator module {@code jdk.incubator.vector}, which a JVM only has when
 * started with {@code --add-modules jdk.incubator.vector} (JDK 17 then prints "WARNING: Using incubator
 * modules"). It is used by default when the module is there and the processor has 256-bit vectors or
 * wider; {@code -Doctet.cpu.codec=scalar} forces the scalar codec, {@code -Doctet.cpu.codec=vector}
 * asks for the SIMD one (the scalar one, with the reason, where it cannot run). {@link #description()}
 * says which runs and why; the agent's start-up report prints it.
 *
 * <p>{@link VectorCodec} is only referred to behind {@link #VECTOR}, a constant: without the module
 * the JIT drops those branches and the class is never loaded.
 */
public final class CpuCodec {

    static final boolean VECTOR;
    private static final String DESCRIPTION;

    static {
        String asked = System.getProperty("octet.cpu.codec", "auto").trim().toLowerCase(java.util.Locale.ROOT);
        boolean vector = false;
        String description;
        if (!asked.equals("auto") && !asked.equals("scalar") && !asked.equals("vector")) {
            throw new IllegalArgumentException("-Doctet.cpu.codec=" + asked + ": one of auto, scalar, vector");
        }
        if (asked.equals("scalar")) {
            description = "scalar (-Doctet.cpu.codec=scalar)";
        } else if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            description = "scalar (the SIMD codec needs --add-modules jdk.incubator.vector on the java command line)";
        } else {
            String reason;
            try {
                reason = VectorCodec.USABLE ? null : "the processor's vectors are narrower than 256 bits";
            } catch (Throwable e) {
                reason = "the Vector API did not start: " + e;
            }
            if (reason == null) {
                vector = true;
                description = "vector (jdk.incubator.vector, " + VectorCodec.describe() + ")";
            } else {
                description = "scalar (" + reason + ")";
            }
        }
        VECTOR = vector;
        DESCRIPTION = description;
    }

    private CpuCodec() {
    }

    /** Whether the SIMD codec runs. */
    public static boolean vector() {
        return VECTOR;
    }

    /** Which codec runs and why, e.g. "vector (jdk.incubator.vector, 512-bit vectors)". */
    public static String description() {
        return DESCRIPTION;
    }
}
