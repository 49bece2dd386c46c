package dev.octet.agent.dl4j;

import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.isDeclaredBy;
import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.octet.agent.FrameworkGate;
import dev.octet.agent.HelperInjector;
import dev.octet.agent.InstrumentationModule;
import java.util.List;
import java.util.Set;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.MemberSubstitution;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.pool.TypePool;

/**
 * Deeplearning4j: while {@code BaseMultiLayerUpdater} lays out the updater state of a
 * {@code MultiLayerNetwork} or {@code ComputationGraph}, octet decides per parameter and sizes the
 * state view for 8-bit storage; {@code UpdaterBlock.init} then gets octet's updater over that view;
 * {@code ModelSerializer} saves and restores that state through octet, bit for bit. Where DL4J moves
 * state between JVMs or averages it (dl4j-spark's two training masters, ParallelWrapper), it leaves
 * decoded and comes back re-quantized. Only the DL4J versions its gate names are touched; others run as
 * without the agent.
 */
public final class Dl4jInstrumentationModule implements InstrumentationModule {

    /** Versions octet supports, and what it relies on where a version is not recorded. */
    private static final FrameworkGate GATE = new FrameworkGate("Deeplearning4j", "dl4j-unsupported",
            "META-INF/maven/org.deeplearning4j/deeplearning4j-nn/pom.properties", "version",
            Set.of("1.0.0-M2", "1.0.0-M2.1"), "dev.octet.adapters.dl4j.", null,
            List.of(FrameworkGate.Requirement.method("org.deeplearning4j.nn.updater.BaseMultiLayerUpdater", "<init>", 2),
                    FrameworkGate.Requirement.method("org.deeplearning4j.nn.updater.BaseMultiLayerUpdater", "setStateViewArray", 1),
                    FrameworkGate.Requirement.method("org.deeplearning4j.nn.updater.UpdaterBlock", "init", 0),
                    FrameworkGate.Requirement.method("org.deeplearning4j.nn.api.TrainingConfig", "getUpdaterByParam", 1),
                    FrameworkGate.Requirement.method("org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer", "instantiate", 6),
                    FrameworkGate.Requirement.method("org.deeplearning4j.util.ModelSerializer", "writeModel", 3),
                    FrameworkGate.Requirement.method("org.nd4j.linalg.learning.config.IUpdater", "stateSize", 1),
                    FrameworkGate.Requirement.method("org.nd4j.linalg.learning.config.AdaBelief", "instantiate", 2),
                    FrameworkGate.Requirement.method("org.nd4j.linalg.factory.Nd4j", "getEnvironment", 0)));
    private static final String HOOKS = "dev.octet.adapters.dl4j.Dl4jHooks";
    private static final String CHECKPOINTS = "dev.octet.adapters.dl4j.Dl4jCheckpoints";
    private static final String SPARK = "dev.octet.adapters.dl4j.Dl4jSpark";
    private static final String UPDATER = "org.deeplearning4j.nn.updater.BaseMultiLayerUpdater";
    private static final String ND4J = "org.nd4j.linalg.factory.Nd4j";
    private static final String INDARRAY = "org.nd4j.linalg.api.ndarray.INDArray";
    private static final String GRADIENT_SHARING = "org.deeplearning4j.spark.parameterserver.";

    @Override
    public String name() {
        return "dl4j";
    }

    @Override
    public AgentBuilder instrument(AgentBuilder builder, HelperInjector helpers) {
        TypePool helperTypes = helpers.typePool();
        TypeDescription hooks = helperTypes.describe(HOOKS).resolve();
        MethodDescription stateSize = method(hooks, "stateSize");
        MethodDescription updaterByParam = method(hooks, "updaterByParam");
        MethodDescription configOf = method(hooks, "configOf");
        TypeDescription checkpoints = helperTypes.describe(CHECKPOINTS).resolve();
        MethodDescription writeState = method(checkpoints, "write");
        MethodDescription readState = method(checkpoints, "read");
        TypeDescription spark = helperTypes.describe(SPARK).resolve();
        MethodDescription exportState = method(spark, "exportState");
        MethodDescription exportStateCopy = method(spark, "exportStateCopy");
        MethodDescription assignState = method(spark, "assignState");
        MethodDescription averageStates = method(spark, "averageStates");
        ClassFileLocator agentClasses = ClassFileLocator.ForClassLoader.of(Dl4jInstrumentationModule.class.getClassLoader());
        TypePool adviceTypes = TypePool.Default.of(new ClassFileLocator.Compound(agentClasses, helpers.locator()));
        Advice constructorAdvice = Advice.to(adviceTypes.describe(UpdaterConstructionAdvice.class.getName()).resolve(), agentClasses);
        Advice initAdvice = Advice.to(adviceTypes.describe(BlockInitAdvice.class.getName()).resolve(), agentClasses);
        Advice restoreAdvice = Advice.to(adviceTypes.describe(StateRestoreAdvice.class.getName()).resolve(), agentClasses);
        Advice driverRoundAdvice = Advice.to(adviceTypes.describe(SparkDriverRoundAdvice.class.getName()).resolve(), agentClasses);
        Advice executorTaskAdvice = Advice.to(adviceTypes.describe(SparkExecutorTaskAdvice.class.getName()).resolve(), agentClasses);
        Advice embeddingAdvice = Advice.to(adviceTypes.describe(EmbeddingInstantiateAdvice.class.getName()).resolve(), agentClasses);

        return builder
                .type(named(UPDATER))
                .transform(GATE.whenSupported(helpers, b -> b
                        .visit(MemberSubstitution.relaxed()
                                .method(named("getConfig")).replaceWith(configOf)
                                .method(named("getUpdaterByParam")).replaceWith(updaterByParam)
                                .method(named("stateSize")).replaceWith(stateSize)
                                .on(isConstructor().and(takesArguments(2))))
                        .visit(constructorAdvice.on(isConstructor().and(takesArguments(2))))
                        .visit(restoreAdvice.on(named("setStateViewArray").and(takesArguments(1))))))
                .type(named("org.deeplearning4j.nn.updater.UpdaterBlock"))
                .transform(GATE.whenSupported(helpers, b -> b.visit(initAdvice.on(named("init").and(takesArguments(0))))))
                // Stable embeddings: the layer configurations DL4J creates embedding layers from.
                .type(named("org.deeplearning4j.nn.conf.layers.EmbeddingLayer")
                        .or(named("org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer")))
                .transform(GATE.whenSupported(helpers, b -> b.visit(embeddingAdvice.on(named("instantiate").and(takesArguments(6))))))
                // The updater state goes through octet's writer and reader (parameters pass through).
                .type(named("org.deeplearning4j.util.ModelSerializer"))
                .transform(GATE.whenSupported(helpers, b -> b.visit(MemberSubstitution.relaxed()
                        .method(named("write").and(isStatic()).and(isDeclaredBy(named(ND4J)))
                                .and(takesArguments(2)))
                        .replaceWith(writeState)
                        .method(named("read").and(isStatic()).and(isDeclaredBy(named(ND4J))).and(takesArguments(1)))
                        .replaceWith(readState)
                        .on(named("writeModel").or(nameStartsWith("restore"))))))
                // dl4j-spark's parameter averaging: the state leaves a JVM decoded to DL4J's float32 layout
                // (the driver's broadcast, a worker's result), never as octet's packed words; the driver and
                // its executors check that they run the same octet.
                .type(named("org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster")
                        .or(named("org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker")))
                .transform(GATE.whenSupportedBeside(UPDATER, helpers, b -> b
                        .visit(MemberSubstitution.relaxed()
                                .method(named("getStateViewArray").and(takesArguments(0))).replaceWith(exportState)
                                .on(named("getWorkerInstance").or(named("getFinalResult"))))
                        .visit(driverRoundAdvice.on(named("getWorkerInstance").and(takesArguments(1))))
                        .visit(executorTaskAdvice.on(named("getInitialModel").or(named("getInitialModelGraph"))
                                .and(takesArguments(0))))))
                // Gradient sharing (dl4j-spark-parameterserver): the same edges, where it sends a state out
                // (the broadcast, a worker's result, a running node's state for a joining one) and where it
                // assigns one that came in (a worker's start, the driver's average, the joining node).
                .type(named(GRADIENT_SHARING + "training.SharedTrainingMaster"))
                .transform(GATE.whenSupportedBeside(UPDATER, helpers, b -> b
                        .visit(MemberSubstitution.relaxed()
                                .method(named("getStateViewArray").and(takesArguments(0))).replaceWith(exportState)
                                .on(named("getWorkerInstance")))
                        .visit(assignmentOf(assignState).on(named("processResults")))
                        .visit(driverRoundAdvice.on(named("getWorkerInstance").and(takesArguments(1))))))
                .type(named(GRADIENT_SHARING + "training.SharedTrainingWorker"))
                .transform(GATE.whenSupportedBeside(UPDATER, helpers, b -> b
                        .visit(assignmentOf(assignState).on(named("getInitialModel").or(named("getInitialModelGraph"))))
                        .visit(executorTaskAdvice.on(named("getInitialModel").or(named("getInitialModelGraph"))
                                .and(takesArguments(0))))))
                .type(nameStartsWith(GRADIENT_SHARING + "pw.SharedTrainingWrapper"))
                .transform(GATE.whenSupportedBeside(UPDATER, helpers, b -> b
                        .visit(MemberSubstitution.relaxed()
                                .method(named("getStateViewArray").or(named("getUpdaterStateViewArray")).and(takesArguments(0)))
                                .replaceWith(exportState)
                                .on(named("run")))
                        .visit(MemberSubstitution.relaxed()
                                .method(named("getStateViewArrayCopy").and(takesArguments(0))).replaceWith(exportStateCopy)
                                .on(named("getUpdaterParameters")))))
                // ParallelWrapper (gradient sharing runs one per executor): a joining node's state is assigned
                // to a replica; in its averaging mode, the replicas' states are averaged decoded.
                .type(named("org.deeplearning4j.parallelism.trainer.DefaultTrainer"))
                .transform(GATE.whenSupportedBeside(UPDATER, helpers, b -> b
                        .visit(assignmentOf(assignState).on(named("updateUpdaterParams")))))
                .type(named("org.deeplearning4j.parallelism.ParallelWrapper"))
                .transform(GATE.whenSupportedBeside(UPDATER, helpers, b -> b
                        .visit(MemberSubstitution.relaxed()
                                .method(named("averageAndPropagate").and(isStatic()).and(isDeclaredBy(named(ND4J)))
                                        .and(takesArguments(2)))
                                .replaceWith(averageStates)
                                .on(named("averageUpdatersState")))));
    }

    /** {@code INDArray.assign(INDArray)} replaced with {@code replacement(view, given)}. */
    private static MemberSubstitution assignmentOf(MethodDescription replacement) {
        return MemberSubstitution.relaxed()
                .method(named("assign").and(isDeclaredBy(named(INDARRAY))).and(takesArguments(1))
                        .and(takesArgument(0, named(INDARRAY))))
                .replaceWith(replacement);
    }

    private static MethodDescription method(TypeDescription type, String name) {
        return type.getDeclaredMethods().filter(named(name)).getOnly();
    }
}
