package dev.octet.adapters.dl4j;

import dev.octet.adapters.core.HookFailures;
import dev.octet.adapters.core.OctetRuntime;
import dev.octet.adapters.core.PackedStateLayout;
import dev.octet.adapters.core.StartupReport;
import dev.octet.policy.Decision;
import dev.octet.policy.ParameterInfo;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.Trainable;
import org.deeplearning4j.nn.api.TrainingConfig;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLogger;

/**
 * The calls the agent weaves into DL4J's updater construction ({@code BaseMultiLayerUpdater}'s
 * constructor and {@code UpdaterBlock.init}). While DL4J lays out its updater, octet decides per
 * parameter and tells DL4J the (smaller) state size; when DL4J creates each update group's updater (its UpdaterBlock's), octet
 * creates its own over the same view. Everything runs on the thread that builds the updater.
 *
 * <p>Failures follow {@link HookFailures}: octet decides every parameter of the network before DL4J asks
 * for the first state size, so a hook that fails up to then leaves the whole network on DL4J's own
 * updater (one warning; {@code onError: fail} stops the job). Once a state size octet answered differs
 * from DL4J's, DL4J's view is laid out for octet and cannot be handed back: a failure after that stops the job.
 */
public final class Dl4jHooks {

    /**
     * The job's logger for {@code report: log}; where the job's SLF4J has no provider it drops everything
     * (a common state of DJL jobs), and the report goes to standard error instead.
     */
    private static final Logger LOG = LoggerFactory.getLogger("octet");
    private static final Consumer<String> REPORT = LOG instanceof NOPLogger
            ? text -> System.err.println(text + System.lineSeparator() + "[octet] (printed here: SLF4J has no logging"
                    + " provider in this job, so report: log would have dropped it)")
            : LOG::info;

    /** The reports of updaters built in a Spark JVM (or with a given state: a dl4j-spark worker's), once per JVM. */
    private static final Set<String> REPORTED_IN_SPARK = ConcurrentHashMap.newKeySet();
    /** Updaters being constructed on this thread (DL4J does not nest them, but a stack costs nothing). */
    private static final ThreadLocal<Deque<Layout>> BUILDING = ThreadLocal.withInitial(ArrayDeque::new);

    private Dl4jHooks() {
    }

    /** The decisions for one updater under construction, in DL4J's parameter order. */
    private static final class Layout {
        final boolean multiLayerNetwork;
        /** ND4J's CUDA backend when the network lives there (octet's CUDA kernels update it), else null. */
        final Nd4jCudaMemory gpu;
        /** Every parameter of the network, decided before DL4J asks for the first state size. */
        final List<ParamPlan> decided = new ArrayList<>();
        /** The parameters DL4J asked about, in its order. */
        final List<ParamPlan> plans = new ArrayList<>();
        /** octet stands aside: DL4J's own updater for the whole network (or, after {@link #resized}, nothing else goes wrong). */
        boolean aside;
        /** Whether octet answered a state size other than DL4J's: from then on DL4J cannot take the network back. */
        boolean resized;
        /** The update groups with state, in the order of DL4J's view. */
        final List<PackedStateLayout.Group> groups = new ArrayList<>();
        Trainable currentTrainable;
        TrainingConfig currentLayer;
        String currentVariable;

        Layout(Object network, Nd4jCudaMemory gpu) {
            this.multiLayerNetwork = network instanceof MultiLayerNetwork;
            this.gpu = gpu;
        }

        /** The name DL4J users see: {@code 0_W} in a MultiLayerNetwork, {@code vertexName_W} in a graph. */
        String parameterName(Trainable trainable, TrainingConfig layer, String variable) {
            if (multiLayerNetwork && trainable instanceof Layer indexed) {
                return indexed.getIndex() + "_" + variable;
            }
            return layer.getLayerName() + "_" + variable;
        }

        /**
         * Decides every parameter of {@code network} as DL4J will ask about them (the layers or vertices
         * with parameters, each one's variables): whatever fails here fails before DL4J's layout depends on it.
         */
        void decideAll(Model network) {
            Trainable[] trainables = network instanceof MultiLayerNetwork mln ? mln.getLayers()
                    : network instanceof ComputationGraph graph ? graph.getVertices() : new Trainable[0];
            for (Trainable t : trainables) {
                Map<String, INDArray> table = t == null || t.numParams() == 0 ? null : t.paramTable(false);
                if (table == null) {
                    continue;
                }
                TrainingConfig layer = t.getConfig();
                for (Map.Entry<String, INDArray> variable : table.entrySet()) {
                    IUpdater updater = layer.getUpdaterByParam(variable.getKey());
                    if (updater != null) { // DL4J itself refuses a parameter without an updater
                        decided.add(plan(layer, variable.getKey(), parameterName(t, layer, variable.getKey()), t,
                                variable.getValue().length(), updater));
                    }
                }
            }
        }

        static ParamPlan find(List<ParamPlan> in, TrainingConfig layer, String variable) {
            for (ParamPlan p : in) {
                if (p.layer == layer && p.variable.equals(variable)) {
                    return p;
                }
            }
            return null;
        }

        ParamPlan find(TrainingConfig layer, String variable) {
            return find(plans, layer, variable);
        }
    }

    /**
     * At the start of {@code BaseMultiLayerUpdater(network, state)}: decides every parameter. On ND4J's CUDA
     * backend octet's CUDA kernels update the GPU copy of DL4J's arrays; where they cannot (no usable GPU
     * for octet, several GPUs, an ND4J it does not know) octet stands aside with one warning.
     *
     * <p>Returns the state DL4J was given, which the advice then withholds from DL4J, or null when octet
     * does not lay out this updater. Only dl4j-spark's workers give one (the driver's averaged state, in
     * DL4J's float32 layout: {@link Dl4jSpark}); DL4J would take that array as the view itself and slice
     * octet's smaller layout out of it, so DL4J lays out a fresh view instead and
     * {@link #constructionEnds} puts the given state into it, quantized.
     */
    public static Object constructionStarts(Object network, Object givenState) {
        Deque<Layout> stack = BUILDING.get();
        // DL4J does not nest updater constructions: a layout left here is one whose constructor threw.
        stack.clear();
        Layout layout = new Layout(network, null);
        stack.push(layout);
        try {
            layout.aside = !float32(network);
            Nd4jCudaMemory gpu = layout.aside ? null : gpuMemory();
            if (gpu == null && !Nd4j.getEnvironment().isCPU()) {
                layout.aside = true;
            }
            if (!layout.aside) {
                Layout ready = new Layout(network, gpu);
                ready.decideAll((Model) network);
                stack.pop();
                stack.push(ready);
            }
        } catch (RuntimeException | LinkageError e) {
            layout.aside = true;
            HookFailures.standAside("DL4J", "updater layout", e, "DL4J's own updater keeps the optimizer state of this "
                    + network.getClass().getSimpleName() + ", 32-bit");
        }
        return stack.peek().aside ? null : givenState;
    }

    /** Whether the network is float32; else one warning (or the job stops, with {@code onError: fail}). */
    private static boolean float32(Object network) {
        DataType type = ((Model) network).params() == null ? DataType.FLOAT : ((Model) network).params().dataType();
        if (type != DataType.FLOAT) {
            // Decided before DL4J asks for the state's size: the network keeps DL4J's own updater whole.
            // Once per network (DL4J networks have no names): a second network of this type is another subject.
            OctetRuntime.unsupported("dl4j-dtype:" + type + ":" + System.identityHashCode(network), "this network's parameters are "
                    + type + "; octet's DL4J updaters work on float32 networks, so its optimizer state stays DL4J's own " + type
                    + " (" + network.getClass().getSimpleName() + " of " + ((Model) network).numParams() + " parameters)");
            return false;
        }
        return true;
    }

    /** ND4J's CUDA memory where ND4J runs on a GPU and octet can drive it; null on the CPU or (after a warning) where it cannot. */
    private static Nd4jCudaMemory gpuMemory() {
        if (Nd4j.getEnvironment().isCPU()) {
            return null;
        }
        try {
            return Nd4jCudaMemory.open();
        } catch (Nd4jCudaMemory.Unavailable e) {
            OctetRuntime.unsupported("dl4j-gpu-backend", "ND4J runs on a GPU backend ("
                    + Nd4j.getBackend().getClass().getSimpleName() + ") that octet cannot drive: " + e.getMessage()
                    + "; this job's optimizer state stays 32-bit");
            return null;
        }
    }

    /** Replaces {@code layer.getConfig()} in the constructor: remembers which layer. */
    public static TrainingConfig configOf(Trainable trainable) {
        Layout layout = BUILDING.get().peek();
        if (layout != null) {
            layout.currentTrainable = trainable;
        }
        return trainable.getConfig();
    }

    /**
     * At its (normal) end: registers octet's layout for checkpoints, publishes the report, and puts a state
     * {@link #constructionStarts} withheld from DL4J into the view.
     */
    public static void constructionEnds(Object updater, Object givenState) {
        Deque<Layout> stack = BUILDING.get();
        if (stack.isEmpty()) {
            return;
        }
        Layout layout = stack.pop();
        if (!(updater instanceof BaseMultiLayerUpdater<?> built)) {
            return;
        }
        INDArray view = built.getStateViewArray();
        if (!layout.aside && layout.groups.stream().anyMatch(PackedStateLayout.Group::managed)) {
            // Without it, a checkpoint would write octet's words as DL4J's floats: not a step that may fail quietly.
            try {
                Dl4jCheckpoints.register(view, new PackedStateLayout(layout.groups));
            } catch (RuntimeException | LinkageError e) {
                throw HookFailures.cannotGoBack("DL4J", "checkpoint registration", e, "it laid out this network's optimizer state");
            }
            try {
                StartupReport report = report(layout, updater);
                // A dl4j-spark worker builds its network anew every round or fit: the same report once per JVM.
                if (givenState == null && !Dl4jSpark.inSpark() || REPORTED_IN_SPARK.add(report.render())) {
                    OctetRuntime.publish(report, REPORT);
                    OpenMpWaitHint.tellOnce();
                }
                OctetRuntime.warnUnmatchedRules("this " + (layout.multiLayerNetwork ? "MultiLayerNetwork" : "ComputationGraph"),
                        updater, layout.plans.stream().map(p -> p.info).toList());
            } catch (RuntimeException | LinkageError e) {
                HookFailures.standAside("DL4J", "start-up report", e, "no report for this network; octet runs it as decided");
            }
        }
        if (givenState != null) {
            // DL4J never saw this state: losing it would restart the worker's optimizer from zero unnoticed.
            try {
                if (!Dl4jCheckpoints.applyState(view, givenState)) {
                    view.assign((INDArray) givenState); // DL4J's layout on both sides (or octet's, bit for bit)
                }
            } catch (RuntimeException | LinkageError e) {
                throw HookFailures.cannotGoBack("DL4J", "the updater state dl4j-spark gave a worker", e,
                        "it withheld that state from DL4J's constructor");
            }
        }
    }

    /** Replaces {@code layer.getUpdaterByParam(variable)} in the constructor: remembers which parameter. */
    public static IUpdater updaterByParam(TrainingConfig layer, String variable) {
        Layout layout = BUILDING.get().peek();
        if (layout != null) {
            layout.currentLayer = layer;
            layout.currentVariable = variable;
        }
        return layer.getUpdaterByParam(variable);
    }

    /** Replaces {@code updater.stateSize(n)} in the constructor: the state size of octet's layout. */
    public static long stateSize(IUpdater updater, long elements) {
        Layout layout = BUILDING.get().peek();
        if (layout == null || layout.aside || layout.currentLayer == null) {
            return updater.stateSize(elements);
        }
        try {
            ParamPlan plan = Layout.find(layout.decided, layout.currentLayer, layout.currentVariable);
            if (plan == null || plan.elements != elements || !plan.updater.equals(updater)) {
                // Not as octet found it beforehand (DL4J asked about something else): decided now.
                plan = plan(layout.currentLayer, layout.currentVariable, layout.parameterName(layout.currentTrainable,
                        layout.currentLayer, layout.currentVariable), layout.currentTrainable, elements, updater);
            }
            long size = plan.handledByOctet() ? plan.stateSize() : updater.stateSize(elements);
            layout.resized |= size != updater.stateSize(elements);
            layout.plans.add(plan);
            return size;
        } catch (RuntimeException | LinkageError e) {
            if (layout.resized) {
                throw HookFailures.cannotGoBack("DL4J", "state size", e, "it sized part of this network's optimizer state for 8 bits");
            }
            layout.aside = true;
            HookFailures.standAside("DL4J", "state size", e, "DL4J's own updater keeps this network's optimizer state, 32-bit");
            return updater.stateSize(elements);
        }
    }

    private static ParamPlan plan(TrainingConfig layer, String variable, String name, Trainable trainable,
            long elements, IUpdater updater) {
        Dl4jUpdaterMath math = Dl4jUpdaterMath.forConfig(updater);
        long[] shape = shapeOf(trainable, variable, elements);
        ParameterInfo info = new ParameterInfo(name, shape, layer.getLayerName(), layer.getClass().getSimpleName(),
                updater.getClass().getSimpleName());
        Decision decision = OctetRuntime.policy().decide(info);
        if (decision.stableEmbedding() && !(layer instanceof BaseLayer base
                && base.getActivationFn() instanceof StableEmbeddingActivation)) {
            OctetRuntime.warnOnce("dl4j-stable-embedding:" + layer.getLayerName() + ":" + layer.getClass().getName(),
                    "the policy names " + layer.getLayerName()
                    + " a stable embedding, but it is a " + layer.getClass().getSimpleName()
                    + ", not an EmbeddingLayer or EmbeddingSequenceLayer; it only keeps float32 optimizer state");
        }
        return new ParamPlan(layer, variable, name, shape, elements, updater, math, info, decision);
    }

    private static long[] shapeOf(Trainable trainable, String variable, long elements) {
        INDArray param = trainable == null ? null : trainable.paramTable(false).get(variable);
        return param != null ? param.shape() : new long[] {elements};
    }

    /**
     * Replaces the body of {@code UpdaterBlock.init()} when octet handles the group's updater;
     * returns false to let DL4J create its own. {@code current} is the group's updater field (its getter
     * would call {@code init()} again).
     */
    public static boolean initUpdateGroup(Object updaterBlock, Object current) {
        if (current != null) {
            return false;
        }
        Layout layout = BUILDING.get().peek();
        if (layout == null || layout.aside) {
            return false;
        }
        try {
            return initUpdateGroup(layout, (UpdaterBlock) updaterBlock);
        } catch (RuntimeException | LinkageError e) {
            if (layout.resized) {
                throw HookFailures.cannotGoBack("DL4J", "update group", e, "it laid out this network's optimizer state for 8 bits");
            }
            // Every state size so far was DL4J's own: DL4J's updaters can take over from this group on.
            layout.aside = true;
            HookFailures.standAside("DL4J", "update group", e, "DL4J's own updaters keep this network's remaining optimizer state, 32-bit");
            return false;
        }
    }

    private static boolean initUpdateGroup(Layout layout, UpdaterBlock group) {
        List<ParamPlan> plans = new ArrayList<>();
        List<INDArray> paramViews = new ArrayList<>();
        for (UpdaterBlock.ParamState ps : group.getLayersAndVariablesInBlock()) {
            ParamPlan plan = layout.find(ps.getLayer().getConfig(), ps.getParamName());
            if (plan == null) {
                return false;
            }
            plans.add(plan);
            paramViews.add(ps.getParamView());
        }
        ParamPlan first = plans.get(0);
        String updaterName = first.updater.getClass().getSimpleName();
        if (!first.handledByOctet()) {
            long words = group.getUpdaterViewOffsetEnd() - group.getUpdaterViewOffsetStart();
            if (words > 0) {
                layout.groups.add(PackedStateLayout.Group.foreign(updaterName, first.name, words));
            }
            return false;
        }
        PackedStateLayout.Group packed = new PackedStateLayout.Group(updaterName, List.of(first.math.statistics(first.updater)),
                plans.stream().map(ParamPlan::packed).toList());
        layout.groups.add(packed);
        List<IUpdater> configs = plans.stream().map(p -> p.config).toList();
        group.setGradientUpdater(layout.gpu != null
                ? new OctetCudaGroupUpdater(first.updater, configs, first.math, packed, paramViews, group.getUpdaterView(),
                        group.isUpdaterViewRequiresInitialization(), layout.gpu)
                : new OctetGroupUpdater(first.updater, configs, first.math, packed, paramViews, group.getUpdaterView(),
                        group.isUpdaterViewRequiresInitialization(), regularizes(group, Regularization.ApplyStep.POST_UPDATER),
                        divisibleInTheUpdatersPass(group)));
        return true;
    }

    /**
     * Whether DL4J applies a regularization term of this step to any of the group's parameters: before the updater
     * (L1, L2) or after it (weight decay), as its {@code applyRegularization} picks them.
     */
    static boolean regularizes(UpdaterBlock group, Regularization.ApplyStep step) {
        for (UpdaterBlock.ParamState ps : group.getLayersAndVariablesInBlock()) {
            List<Regularization> terms = ps.getLayer().getConfig().getRegularizationByParam(ps.getParamName());
            if (terms != null) {
                for (Regularization term : terms) {
                    if (term.applyStep() == step) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * Whether DL4J's division of the group's gradient by the minibatch can wait for the updater's pass: every
     * parameter is divided, and nothing reads the divided gradient before the updater (no gradient
     * normalization or clipping, no regularization term).
     */
    private static boolean divisibleInTheUpdatersPass(UpdaterBlock group) {
        for (UpdaterBlock.ParamState ps : group.getLayersAndVariablesInBlock()) {
            TrainingConfig config = ps.getLayer().getConfig();
            GradientNormalization normalization = config.getGradientNormalization();
            List<Regularization> terms = config.getRegularizationByParam(ps.getParamName());
            if (normalization != null && normalization != GradientNormalization.None || terms != null && !terms.isEmpty()
                    || !ps.getLayer().updaterDivideByMinibatch(ps.getParamName())) {
                return false;
            }
        }
        return true;
    }

    /** A line for the job's log (or standard error, as the report), about how octet runs. */
    static void tell(String line) {
        REPORT.accept(line);
    }

    /** Woven into the start of {@code BaseOptimizer.updateGradientAccordingToParams}: {@link Dl4jFusedStep}. */
    public static void optimizerUpdateStarts(Object optimizer, Object stepFunction, Object accumulator, Object updater,
            Object graphUpdater, Object gradient, Object model) {
        try {
            Dl4jFusedStep.updateStarts(optimizer, stepFunction, accumulator, updater, graphUpdater, gradient, model);
        } catch (RuntimeException | LinkageError e) {
            // Not fused: DL4J's own step applies the update, as without octet.
        }
    }

    /** Woven into the end of {@code BaseOptimizer.updateGradientAccordingToParams}. */
    public static void optimizerUpdateEnds(Object gradient, Throwable thrown) {
        Dl4jFusedStep.updateEnds(gradient, thrown != null);
    }

    /**
     * Woven into {@code BaseMultiLayerUpdater.divideByMinibatch}: true leaves DL4J's division out (octet's groups
     * divide in their pass: {@link Dl4jFusedStep}).
     */
    public static boolean minibatchDivisionTaken(Object updater, Object gradient, int batchSize) {
        try {
            return Dl4jFusedStep.divisionTaken(updater, gradient, batchSize);
        } catch (RuntimeException | LinkageError e) {
            return false; // DL4J divides, as without octet
        }
    }

    /**
     * Woven into {@code UpdaterBlock.applyRegularizationAllVariables(step, ...)}: true leaves that pass out
     * ({@link Dl4jFusedStep#regularizationPassEmpty}).
     */
    public static boolean regularizationPassEmpty(Object group, Object step) {
        try {
            return Dl4jFusedStep.regularizationPassEmpty(group, step);
        } catch (RuntimeException | LinkageError e) {
            return false; // DL4J runs the pass, as without octet
        }
    }

    /** Woven into {@code NegativeGradientStepFunction.step(x, line)}: true leaves the call out (done in octet's pass). */
    public static boolean stepDone(Object params, Object update) {
        return Dl4jFusedStep.stepDone(params, update);
    }


    private static StartupReport report(Layout layout, Object updater) {
        StartupReport report = new StartupReport("octet: optimizer state of " + updater.getClass().getSimpleName()
                + " (policy " + OctetRuntime.policy().source() + ")");
        for (ParamPlan p : layout.plans) {
            String updaterName = p.updater.getClass().getSimpleName();
            long before = 4 * p.updater.stateSize(p.elements);
            if (!p.handledByOctet()) {
                report.add(new StartupReport.Row(p.name, p.shape, updaterName, "DL4J's own", "not an updater octet handles",
                        before, before));
                continue;
            }
            String format = p.quantized()
                    ? String.format(Locale.ROOT, "8-bit, block %d", p.decision.blockSize())
                    : "float32";
            report.add(new StartupReport.Row(p.name, p.shape, updaterName, format, p.decision.explanation(), before,
                    4 * p.stateSize()));
        }
        return report;
    }
}
