package dev.octet.adapters.dl4j;

import dev.octet.adapters.core.OctetRuntime;
import dev.octet.policy.Policy;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * octet's state across dl4j-spark's parameter averaging (docs/spark-design.md). octet's packed layout
 * lives only inside a JVM: where dl4j-spark takes a network's updater state to send it out (the
 * driver's broadcast to the workers, a worker's result to the driver), octet hands it a decoded float32
 * copy in DL4J's own layout, so that Spark's serializer (which rewrites NaN bit patterns, and packed
 * codes can look like NaN) and DL4J's element-wise sum and division see plain statistics, never codes;
 * where the averaged state comes back into a network, octet quantizes it again with fresh block maxima
 * ({@link Dl4jCheckpoints#applyState}, and {@link Dl4jHooks#constructionEnds} for a worker's new updater).
 *
 * <p>Because the wire carries DL4J's layout, a driver and executors that disagree about octet still
 * compute correctly, but not what the user asked for (32-bit state somewhere, or two policies): the
 * driver checks that its executors are started with the agent, and tells each task who it is (a Spark
 * local property); an executor whose octet differs from the driver's, or whose driver has none, says so.
 * Each once per JVM, or the job stops there where the policy says {@code onError: fail}.
 *
 * <p>dl4j-spark and Spark are reached by reflection: octet's DL4J adapter does not depend on them.
 */
public final class Dl4jSpark {

    /** The local property the driver sets for every task of a training round. */
    static final String IDENTITY = "octet.identity";

    private Dl4jSpark() {
    }

    /**
     * Replaces {@code updater.getStateViewArray()} where dl4j-spark sends the state out of this JVM: the
     * view itself where octet does not pack it (no 8-bit parameter), else a decoded float32 copy.
     */
    public static INDArray exportState(Object updater) {
        INDArray view = updater instanceof BaseMultiLayerUpdater<?> base ? base.getStateViewArray()
                : ((Updater) updater).getStateViewArray();
        return Dl4jCheckpoints.decoded(view);
    }

    /**
     * On the driver, before each averaging round ({@code getWorkerInstance(sparkNetwork)}): checks once
     * that a cluster's executors start with octet, and tells the round's tasks who this octet is.
     */
    public static void driverRound(Object sparkNetwork) {
        String master;
        String executorOptions;
        try {
            Object context = sparkNetwork.getClass().getMethod("getSparkContext").invoke(sparkNetwork);
            Object conf = context.getClass().getMethod("getConf").invoke(context);
            var get = conf.getClass().getMethod("get", String.class, String.class);
            master = (String) get.invoke(conf, "spark.master", "");
            executorOptions = (String) get.invoke(conf, "spark.executor.extraJavaOptions", "");
            context.getClass().getMethod("setLocalProperty", String.class, String.class).invoke(context, IDENTITY, identity());
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            cannotCheck(e);
            return;
        }
        if (!master.startsWith("local") && !executorOptions.matches("(?s).*-javaagent:\\S*octet\\S*.*")) {
            mismatch("spark-executors-without-octet", "octet runs in this Spark driver, but spark.executor.extraJavaOptions"
                    + " does not start the executors with it (" + (executorOptions.isBlank() ? "not set" : executorOptions)
                    + "): their updater state stays DL4J's 32-bit and only the driver's is 8-bit; add "
                    + agentOption() + " to spark.executor.extraJavaOptions (absolute paths: executors run in their own folders)");
        }
    }

    /** On an executor, when a task builds its network ({@code getInitialModel}): compares with the driver. */
    public static void executorTask() {
        String driver;
        try {
            Class<?> taskContext = Class.forName("org.apache.spark.TaskContext", false,
                    Thread.currentThread().getContextClassLoader());
            Object task = taskContext.getMethod("get").invoke(null);
            if (task == null) {
                return;
            }
            driver = (String) taskContext.getMethod("getLocalProperty", String.class).invoke(task, IDENTITY);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            cannotCheck(e);
            return;
        }
        String own = identity();
        if (driver == null) {
            mismatch("spark-driver-without-octet", "octet runs in this Spark executor, but the driver does not (its tasks"
                    + " carry no " + IDENTITY + "): the driver's updater state stays DL4J's 32-bit; start the driver with "
                    + agentOption() + " too");
        } else if (!driver.equals(own)) {
            mismatch("spark-octet-differs", "octet in this Spark executor (" + own + ") is not the driver's (" + driver
                    + "): the executors and the driver keep their state by different settings; start both with the same"
                    + " agent and policy");
        }
    }

    private static void cannotCheck(Throwable e) {
        OctetRuntime.warnOnce("spark-check", "octet could not check that the Spark driver and executors run the same"
                + " octet (" + e + "); the state crosses Spark in DL4J's own layout either way");
    }

    private static void mismatch(String key, String message) {
        if (OctetRuntime.policy().onError() == Policy.OnError.FAIL) {
            throw new IllegalStateException(message + " (the policy says onError: fail)");
        }
        OctetRuntime.warnOnce(key, message);
    }

    /** octet's build and the content of its policy (not its path: executors may read a copy elsewhere). */
    static String identity() {
        String version = Dl4jSpark.class.getPackage().getImplementationVersion();
        String source = OctetRuntime.policy().source();
        String policy = source;
        try {
            Path file = Path.of(source);
            if (Files.isRegularFile(file)) {
                byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
                policy = "policy sha256:" + HexFormat.of().formatHex(digest, 0, 8);
            }
        } catch (IOException | NoSuchAlgorithmException | RuntimeException e) {
            policy = source;
        }
        return "octet " + (version == null ? "(development build)" : version) + ", " + policy;
    }

    /** This JVM's own -javaagent option for octet, as the thing to copy, or a template. */
    private static String agentOption() {
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (argument.startsWith("-javaagent:") && argument.contains("octet")) {
                return argument;
            }
        }
        return "-javaagent:/absolute/path/octet-agent.jar";
    }
}
