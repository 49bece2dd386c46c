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
 * <p>By default ({@code auto}) the steps start on the scalar codec and switch to the SIMD one once a
 * background warm-up has had its loops compiled ({@link VectorWarmUp} says why: until then the Vector API
 * allocates every vector, and jobs that ran those loops from their first block grew their heap for it);
 * {@code -Doctet.cpu.codec=vector} runs the SIMD codec from the first block.
 *
 * <p>{@link VectorCodec} is only referred to behind {@link #VECTOR}, a constant: without the module
 * the JIT drops those branches and the class is never loaded.
 */
public final class CpuCodec {

    /** Whether this JVM's steps run the SIMD codec (from the first block, or once it is warmed up). */
    static final boolean VECTOR;
    private static final String DESCRIPTION;
    /** Whether the steps run the SIMD codec now: false until its warm-up ends (see {@link #simd}). */
    private static volatile boolean switchedToSimd;

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
                switchedToSimd = asked.equals("vector");
                description = "vector (jdk.incubator.vector, " + VectorCodec.describe() + ")"
                        + (switchedToSimd ? ", from the first step (-Doctet.cpu.codec=vector)"
                                : ", after a background warm-up (the scalar codec until then)");
            } else {
                description = "scalar (" + reason + ")";
            }
        }
        VECTOR = vector;
        DESCRIPTION = description;
    }

    private CpuCodec() {
    }

    /** Whether the SIMD codec runs (now, or once it is warmed up). */
    public static boolean vector() {
        return VECTOR;
    }

    /**
     * Whether a block is coded by the SIMD codec now. Until the warm-up has the SIMD loops compiled, the first
     * call starting it, the scalar codec does it: the same codes and absmax, so a step may use both.
     */
    static boolean simd() {
        return VECTOR && (switchedToSimd || startWarmUp());
    }

    private static boolean startWarmUp() {
        VectorWarmUp.start(() -> switchedToSimd = true);
        return false;
    }

    /** Whether blocks are coded by the SIMD codec now: false on the scalar codec, and until its warm-up ends. */
    public static boolean simdNow() {
        return VECTOR && switchedToSimd;
    }

    /**
     * Starts the SIMD codec's warm-up if no block has, and waits for it to end, {@code timeoutMillis} at most;
     * returns {@link #simdNow()} (at once: false on the scalar codec). For tools that must run the SIMD codec
     * itself, such as the conformance runner.
     */
    public static boolean awaitSimd(long timeoutMillis) throws InterruptedException {
        if (!VECTOR || switchedToSimd) {
            return simdNow();
        }
        startWarmUp();
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (!switchedToSimd && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return switchedToSimd;
    }

    /** Which codec runs and why, e.g. "vector (jdk.incubator.vector, 512-bit vectors)". */
    public static String description() {
        return DESCRIPTION;
    }
}
