package dev.octet.agent.dl4j;

import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.isDeclaredBy;
import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.octet.agent.Framework;
import dev.octet.agent.Framework.Requirement;
import dev.octet.agent.InstrumentationModule;
import dev.octet.agent.TypeInstrumentation;
import java.util.List;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Deeplearning4j: while {@code BaseMultiLayerUpdater} lays out the updater state of a
 * {@code MultiLayerNetwork} or {@code ComputationGraph}, octet decides per parameter and sizes the
 * state view for 8-bit storage; {@code UpdaterBlock.init} then gets octet's updater over that view;
 * {@code ModelSerializer} saves and restores that state through octet, bit for bit; the optimizer's
 * {@code params -= update}, and the updater's division by the minibatch, are done in octet's pass where
 * nothing comes between, and the regularization passes over groups without a term are left out. Where DL4J moves
 * state between JVMs or averages it (dl4j-spark's two training masters, ParallelWrapper), it leaves
 * decoded and comes back re-quantized. Only the DL4J versions its gate names are touched; others run as
 * without the agent.
 */
public final class Dl4jInstrumentationModule implements InstrumentationModule {

    private static final String OPTIMIZER = "org.deeplearning4j.optimize.solvers.BaseOptimizer";
    private static final String STEP = "org.deeplearning4j.optimize.stepfunctions.NegativeGradientStepFunction";

    /** Versions octet supports, and what it relies on where a version is not recorded. */
    private static final Framework DL4J = Framework.named("Deeplearning4j",
                    "META-INF/maven/org.deeplearning4j/deeplearning4j-nn/pom.properties", "version")
            .supports("1.0.0-M2", "1.0.0-M2.1")
            .reliesOn(Requirement.method("org.deeplearning4j.nn.updater.BaseMultiLayerUpdater", "<init>", 2),
                    Requirement.method("org.deeplearning4j.nn.updater.BaseMultiLayerUpdater", "setStateViewArray", 1),
                    Requirement.method("org.deeplearning4j.nn.updater.UpdaterBlock", "init", 0),
                    Requirement.method(OPTIMIZER, "updateGradientAccordingToParams", 4),
                    Requirement.method(STEP, "step", 2),
                    Requirement.method("org.deeplearning4j.nn.api.TrainingConfig", "getUpdaterByParam", 1),
                    Requirement.method("org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer", "instantiate", 6),
                    Requirement.method("org.deeplearning4j.util.ModelSerializer", "writeModel", 3),
                    Requirement.method("org.nd4j.linalg.learning.config.IUpdater", "stateSize", 1),
                    Requirement.method("org.nd4j.linalg.learning.config.AdaBelief", "instantiate", 2),
                    Requirement.method("org.nd4j.linalg.factory.Nd4j", "getEnvironment", 0))
            .wakesOn("org/deeplearning4j/", "org/nd4j/")
            .instruments("org/deeplearning4j/")
            .helpers("dev.octet.adapters.dl4j.")
            .build();
    private static final String HOOKS = "dev.octet.adapters.dl4j.Dl4jHooks#";
    private static final String CHECKPOINTS = "dev.octet.adapters.dl4j.Dl4jCheckpoints#";
    private static final String SPARK = "dev.octet.adapters.dl4j.Dl4jSpark#";
    private static final String UPDATER = "org.deeplearning4j.nn.updater.BaseMultiLayerUpdater";
    private static final String ND4J = "org.nd4j.linalg.factory.Nd4j";
    private static final String INDARRAY = "org.nd4j.linalg.api.ndarray.INDArray";
    private static final String GRADIENT_SHARING = "org.deeplearning4j.spark.parameterserver.";

    @Override
    public String name() {
        return "dl4j";
    }

    @Override
    public Framework framework() {
        return DL4J;
    }

    @Override
    public List<TypeInstrumentation> typeInstrumentations() {
        return Types.all();
    }

    /** The declarations, in a class of their own ({@link InstrumentationModule#typeInstrumentations} says why). */
    private static final class Types {

        static List<TypeInstrumentation> all() {
            ElementMatcher.Junction<MethodDescription> updaterConstructor = isConstructor().and(takesArguments(2));
            ElementMatcher.Junction<MethodDescription> initialModel = named("getInitialModel").or(named("getInitialModelGraph"));
            return List.of(
                    // The layout: DL4J's own sizes and updaters, asked through octet, which decides per parameter.
                    TypeInstrumentation.of(named(UPDATER))
                            .replaceCalls(updaterConstructor, named("getConfig"), HOOKS + "configOf")
                            .replaceCalls(updaterConstructor, named("getUpdaterByParam"), HOOKS + "updaterByParam")
                            .replaceCalls(updaterConstructor, named("stateSize"), HOOKS + "stateSize")
                            .advice(updaterConstructor, UpdaterConstructionAdvice.class)
                            .advice(named("setStateViewArray").and(takesArguments(1)), StateRestoreAdvice.class)
                            // DL4J's division by the minibatch, done in octet's fused pass where nothing reads it before.
                            .advice(named("divideByMinibatch").and(takesArguments(3)), MinibatchDivisionAdvice.class),
                    TypeInstrumentation.of(named("org.deeplearning4j.nn.updater.UpdaterBlock"))
                            .advice(named("init").and(takesArguments(0)), UpdateGroupInitAdvice.class)
                            // DL4J's regularization passes over octet's groups without a term: only views (Dl4jFusedStep).
                            .advice(named("applyRegularizationAllVariables").and(takesArguments(6)),
                                    RegularizationPassAdvice.class),
                    // DL4J's params -= update, done in octet's pass where nothing comes between (Dl4jFusedStep).
                    TypeInstrumentation.of(named(OPTIMIZER))
                            .advice(named("updateGradientAccordingToParams").and(takesArguments(4)), OptimizerUpdateAdvice.class),
                    TypeInstrumentation.of(named(STEP))
                            .advice(named("step").and(takesArguments(2)), FusedStepAdvice.class),
                    // Stable embeddings: the layer configurations DL4J creates embedding layers from.
                    TypeInstrumentation.of(named("org.deeplearning4j.nn.conf.layers.EmbeddingLayer")
                                    .or(named("org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer")))
                            .advice(named("instantiate").and(takesArguments(6)), EmbeddingInstantiateAdvice.class),
                    // The updater state goes through octet's writer and reader (parameters pass through).
                    TypeInstrumentation.of(named("org.deeplearning4j.util.ModelSerializer"))
                            .replaceCalls(named("writeModel").or(nameStartsWith("restore")),
                                    nd4jStatic("write", 2), CHECKPOINTS + "write")
                            .replaceCalls(named("writeModel").or(nameStartsWith("restore")),
                                    nd4jStatic("read", 1), CHECKPOINTS + "read"),
                    // dl4j-spark's parameter averaging: the state leaves a JVM decoded to DL4J's float32 layout
                    // (the driver's broadcast, a worker's result), never as octet's packed words; the driver and
                    // its executors check that they run the same octet.
                    TypeInstrumentation.besideFramework(UPDATER,
                                    named("org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster")
                                            .or(named("org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker")))
                            .replaceCalls(named("getWorkerInstance").or(named("getFinalResult")), stateView(),
                                    SPARK + "exportState")
                            .advice(named("getWorkerInstance").and(takesArguments(1)), SparkDriverRoundAdvice.class)
                            .advice(initialModel.and(takesArguments(0)), SparkExecutorTaskAdvice.class),
                    // Gradient sharing (dl4j-spark-parameterserver): the same edges, where it sends a state out
                    // (the broadcast, a worker's result, a running node's state for a joining one) and where it
                    // assigns one that came in (a worker's start, the driver's average, the joining node).
                    TypeInstrumentation.besideFramework(UPDATER, named(GRADIENT_SHARING + "training.SharedTrainingMaster"))
                            .replaceCalls(named("getWorkerInstance"), stateView(), SPARK + "exportState")
                            .replaceCalls(named("processResults"), assignment(), SPARK + "assignState")
                            .advice(named("getWorkerInstance").and(takesArguments(1)), SparkDriverRoundAdvice.class),
                    TypeInstrumentation.besideFramework(UPDATER, named(GRADIENT_SHARING + "training.SharedTrainingWorker"))
                            .replaceCalls(initialModel, assignment(), SPARK + "assignState")
                            .advice(initialModel.and(takesArguments(0)), SparkExecutorTaskAdvice.class),
                    TypeInstrumentation.besideFramework(UPDATER, nameStartsWith(GRADIENT_SHARING + "pw.SharedTrainingWrapper"))
                            .replaceCalls(named("run"),
                                    named("getStateViewArray").or(named("getUpdaterStateViewArray")).and(takesArguments(0)),
                                    SPARK + "exportState")
                            .replaceCalls(named("getUpdaterParameters"), named("getStateViewArrayCopy").and(takesArguments(0)),
                                    SPARK + "exportStateCopy"),
                    // ParallelWrapper (gradient sharing runs one per executor): a joining node's state is assigned
                    // to a replica; in its averaging mode, the replicas' states are averaged decoded.
                    TypeInstrumentation.besideFramework(UPDATER, named("org.deeplearning4j.parallelism.trainer.DefaultTrainer"))
                            .replaceCalls(named("updateUpdaterParams"), assignment(), SPARK + "assignState"),
                    TypeInstrumentation.besideFramework(UPDATER, named("org.deeplearning4j.parallelism.ParallelWrapper"))
                            .replaceCalls(named("averageUpdatersState"), nd4jStatic("averageAndPropagate", 2),
                                    SPARK + "averageStates"));
        }

        /** {@code getStateViewArray()}, the updater state DL4J sends. */
        private static ElementMatcher.Junction<MethodDescription> stateView() {
            return named("getStateViewArray").and(takesArguments(0));
        }

        /** {@code INDArray.assign(INDArray)}, where DL4J puts a state it was given. */
        private static ElementMatcher.Junction<MethodDescription> assignment() {
            return named("assign").and(isDeclaredBy(named(INDARRAY))).and(takesArguments(1)).and(takesArgument(0, named(INDARRAY)));
        }

        private static ElementMatcher.Junction<MethodDescription> nd4jStatic(String name, int arguments) {
            return named(name).and(isStatic()).and(isDeclaredBy(named(ND4J))).and(takesArguments(arguments));
        }
    }
}
