package dev.octet.adapters.dl4j;

import dev.octet.adapters.core.OctetRuntime;
import dev.octet.policy.Policy;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * octet's state across dl4j-spark (parameter averaging and gradient sharing) and ParallelWrapper's
 * averaging (docs/spark-design.md). octet's packed layout lives only inside a JVM: where DL4J takes a
 * network's updater state to send it out (the driver's broadcast to the workers, a worker's result to
 * the driver, a running node's state to a joining one), octet hands it a decoded float32 copy in DL4J's
 * own layout, so that Spark's serializer (which rewrites NaN bit patterns, and packed codes can look like
 * NaN) and DL4J's element-wise sum and division see plain statistics, never codes; where the averaged
 * state comes back into a network, octet quantizes it again with fresh block maxima
 * ({@link Dl4jCheckpoints#applyState}, {@link #assignState}, and {@link Dl4jHooks#constructionEnds} for a
 * worker's new updater).
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

    /** Replaces {@code getStateViewArrayCopy()} where gradient sharing sends a running node's state to a joining one. */
    public static INDArray exportStateCopy(Object updater) {
        INDArray view = ((BaseMultiLayerUpdater<?>) updater).getStateViewArray();
        INDArray out = Dl4jCheckpoints.decoded(view);
        return out == view && view != null ? view.dup() : out;
    }

    /**
     * Replaces {@code view.assign(given)} where gradient sharing puts a state that crossed JVMs into a
     * network's updater view (a worker's start, the driver's average, a node joining late): re-quantized
     * into octet's layout where octet packs that view, DL4J's own assignment otherwise.
     */
    public static INDArray assignState(INDArray view, INDArray given) {
        if (!Dl4jCheckpoints.applyState(view, given)) {
            view.assign(given);
        }
        return view;
    }

    /**
     * Replaces {@code Nd4j.averageAndPropagate(target, views)} where ParallelWrapper averages its replicas'
     * updater states: the mean of the decoded statistics, re-quantized into every view with fresh block
     * maxima (never a mean of codes). Views octet does not pack are DL4J's affair.
     */
    public static INDArray averageStates(INDArray target, Collection<INDArray> views) {
        List<INDArray> decoded = new ArrayList<>(views.size());
        boolean packed = false;
        for (INDArray view : views) {
            INDArray plain = Dl4jCheckpoints.decoded(view);
            packed |= plain != view;
            decoded.add(plain);
        }
        if (!packed || views.isEmpty()) {
            return Nd4j.averageAndPropagate(target, views);
        }
        INDArray mean = decoded.get(0).dup();
        for (int i = 1; i < decoded.size(); i++) {
            mean.addi(decoded.get(i));
        }
        mean.divi(decoded.size());
        for (INDArray view : views) {
            assignState(view, mean);
        }
        if (target != null) {
            assignState(target, mean);
        }
        return mean;
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

    /** Whether this JVM runs Spark (a driver or an executor): its networks are built anew every round or fit. */
    static boolean inSpark() {
        if (sparkSeen) {
            return true;
        }
        try {
            Class<?> env = Class.forName("org.apache.spark.SparkEnv", false, Thread.currentThread().getContextClassLoader());
            sparkSeen = env.getMethod("get").invoke(null) != null;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return false;
        }
        return sparkSeen;
    }

    private static volatile boolean sparkSeen;

    /** The identity of the policy it was computed for (every round asks; the policy file is read once). */
    private static volatile Map.Entry<Policy, String> identity;

    /** octet's build and the content of its policy (not its path: executors may read a copy elsewhere). */
    static String identity() {
        Policy current = OctetRuntime.policy();
        Map.Entry<Policy, String> known = identity;
        if (known == null || known.getKey() != current) {
            known = Map.entry(current, identityOf(current));
            identity = known;
        }
        return known.getValue();
    }

    private static String identityOf(Policy policy) {
        String version = Dl4jSpark.class.getPackage().getImplementationVersion();
        String content = policy.source();
        try {
            Path file = Path.of(policy.source());
            if (Files.isRegularFile(file)) {
                byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
                content = "policy sha256:" + HexFormat.of().formatHex(digest, 0, 8);
            }
        } catch (IOException | NoSuchAlgorithmException | RuntimeException e) {
            content = policy.source();
        }
        return "octet " + (version == null ? "(development build)" : version) + ", " + content;
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
