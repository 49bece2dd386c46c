package dev.octet.agent.dl4j;

import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.isDeclaredBy;
import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.octet.agent.FrameworkGate;
import dev.octet.agent.HelperInjector;
import dev.octet.agent.InstrumentationModule;
import java.util.List;
import java.util.Map;
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
 * {@code ModelSerializer} saves and restores that state through octet, bit for bit.
 * Only the DL4J versions its gate names are touched; others run as without the agent.
 */
public final class Dl4jInstrumentationModule implements InstrumentationModule {

    /** Versions octet supports, and the setups it does not handle yet ({@link #unsupportedSetup}). */
    private static final FrameworkGate GATE = new FrameworkGate("Deeplearning4j", "dl4j-unsupported",
            "META-INF/maven/org.deeplearning4j/deeplearning4j-nn/pom.properties", "version",
            Set.of("1.0.0-M2", "1.0.0-M2.1"), "dev.octet.adapters.dl4j.", Dl4jInstrumentationModule::unsupportedSetup,
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

    /**
     * The ways DL4J trains that move or average updater state views element by element where octet does
     * not convert them yet (docs/spark-design.md): dl4j-spark's gradient sharing (its parameter server),
     * and ParallelWrapper's averaging. dl4j-spark's parameter averaging is handled (its hooks below).
     */
    private static final List<Map.Entry<String, String>> AVERAGING = List.of(
            Map.entry("org/deeplearning4j/spark/parameterserver/training/SharedTrainingMaster.class",
                    "dl4j-spark-parameterserver (gradient sharing)"),
            Map.entry("org/deeplearning4j/parallelism/ParallelWrapper.class", "DL4J's ParallelWrapper"));

    /**
     * Why octet stands aside in a job whose class path (as the loader that loaded DL4J sees it, or the
     * thread's context loader: Spark puts the job's jars in a child loader of the one that may hold DL4J)
     * holds one of the {@link #AVERAGING} ways of training; null when none.
     */
    static String unsupportedSetup(ClassLoader dl4jLoader) {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        for (Map.Entry<String, String> way : AVERAGING) {
            for (ClassLoader loader : new ClassLoader[] {dl4jLoader, context}) {
                if (loader != null && loader.getResource(way.getKey()) != null) {
                    return way.getValue() + " is on the class path, and it averages or copies updater state element by"
                            + " element, which 8-bit codes do not survive; octet does not support it yet";
                }
            }
        }
        return null;
    }
    private static final String CHECKPOINTS = "dev.octet.adapters.dl4j.Dl4jCheckpoints";
    private static final String SPARK = "dev.octet.adapters.dl4j.Dl4jSpark";
    private static final String UPDATER = "org.deeplearning4j.nn.updater.BaseMultiLayerUpdater";
    private static final String ND4J = "org.nd4j.linalg.factory.Nd4j";

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
        MethodDescription exportState = method(helperTypes.describe(SPARK).resolve(), "exportState");
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
                                .and(takesArguments(0))))));
    }

    private static MethodDescription method(TypeDescription type, String name) {
        return type.getDeclaredMethods().filter(named(name)).getOnly();
    }
}
