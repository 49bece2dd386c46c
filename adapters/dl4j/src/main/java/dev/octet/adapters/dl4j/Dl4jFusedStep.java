package dev.octet.adapters.dl4j;

import java.util.concurrent.atomic.AtomicBoolean;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.optimize.solvers.StochasticGradientDescent;
import org.deeplearning4j.optimize.stepfunctions.NegativeGradientStepFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.regularization.Regularization;

/**
 * DL4J's {@code params -= update} folded into octet's pass. After the updaters have written the update
 * into the gradient, DL4J's step function reads parameters and update again and writes the parameters: a
 * second pass over 12 bytes a parameter. Where nothing else can come between the two, octet's update
 * groups subtract the update themselves while it is in their hands, and the step function is left out for
 * that one call, so the parameters end exactly as DL4J's step leaves them ({@code p - u} in float) and the
 * gradient still holds the update, for listeners, as before.
 *
 * <p>Nothing may come between: the step is left out only for {@link StochasticGradientDescent} (the
 * optimizer of every {@code fit}) with its default step function, {@link NegativeGradientStepFunction}
 * ({@code params.subi(update)}), without a gradients
 * accumulator (gradient sharing applies other workers' updates too), on the network's own gradient, and
 * only when every update group of the network is octet's on the CPU with no regularization after its
 * updater (DL4J's weight decay adds to the update after the updater; BatchNorm's statistics and frozen
 * layers are groups of DL4J's own). Whether all of this holds is known before the first group runs, so a
 * step is either fused for every parameter or for none. One optimizer call runs on one thread: the state is
 * per thread. {@code -Doctet.dl4j.fusedStep=false} turns it off (to compare).
 *
 * <p>DL4J's division of the gradient by the minibatch ({@code BaseMultiLayerUpdater.divideByMinibatch}, a
 * pass of its own over the whole gradient before the updaters) moves into octet's pass too, where the step
 * is fused and nothing reads the divided gradient before octet's groups: no layer normalizes or clips its
 * gradient, no regularization acts before the updater (L1, L2), and every parameter is divided (BatchNorm's
 * statistics are not). The groups then divide each element first, {@code g / batchSize} in float, as ND4J's
 * {@code divi} does. Where DL4J's division is not left out (the advice is not there, the gradient is another
 * network's), the groups divide by 1: nothing is divided twice or not at all.
 *
 * <p>DL4J's two regularization passes of each update group ({@code UpdaterBlock.applyRegularizationAllVariables},
 * before and after the updater) make new views of every parameter and its gradient, then apply the terms the
 * parameter has of that step, usually none. Making those views (ND4J allocates native shape information for each)
 * cost about two thirds as much as octet's whole 8-bit update of a small network in {@code fit}. A pass is left
 * out for an octet group (on the CPU or the GPU) none of whose parameters has a term of that step, which changes
 * nothing it computes. {@code -Doctet.dl4j.fusedStep=false} leaves every pass to DL4J too.
 */
final class Dl4jFusedStep {

    static final boolean ENABLED = !"false".equals(System.getProperty("octet.dl4j.fusedStep"));
    private static final ThreadLocal<Dl4jFusedStep> CURRENT = ThreadLocal.withInitial(Dl4jFusedStep::new);
    private static final AtomicBoolean TOLD = new AtomicBoolean();
    private static final AtomicBoolean TOLD_DIVISION = new AtomicBoolean();
    private static final AtomicBoolean TOLD_REGULARIZATION = new AtomicBoolean();

    /** Between the start and the end of the optimizer's update: octet's groups apply what they write. */
    private boolean armed;
    /** The network's parameters (their host address and element count) the groups must write into, while armed. */
    private long params;
    private long length;
    private long appliedElements;
    /** While armed: the network's updater, and whether its division by the minibatch may move into octet's pass. */
    private Object updater;
    private long gradient;
    private boolean divisionFusable;
    /** What the groups divide the gradient by: the minibatch where DL4J's own division was left out, else 1. */
    private float divisor = 1f;
    /** After a fused update: the parameters and gradient the step function is about to be given (0: none). */
    private long stepParams;
    private long stepGradient;

    private Dl4jFusedStep() {
    }

    /** At the start of {@code BaseOptimizer.updateGradientAccordingToParams}: arms this thread when nothing comes between. */
    static void updateStarts(Object optimizer, Object stepFunction, Object accumulator, Object updater, Object graphUpdater,
            Object gradient, Object model) {
        Dl4jFusedStep s = CURRENT.get();
        s.disarm();
        s.stepParams = 0;
        if (!ENABLED || optimizer.getClass() != StochasticGradientDescent.class || accumulator != null
                || stepFunction == null || stepFunction.getClass() != NegativeGradientStepFunction.class) {
            return;
        }
        Object groups = model instanceof MultiLayerNetwork ? updater : model instanceof ComputationGraph ? graphUpdater : null;
        INDArray gradientView = ((Gradient) gradient).gradient();
        INDArray networkGradient = ((Model) model).getGradientsViewArray();
        INDArray params = ((Model) model).params();
        // (DL4J's Gradient hands out a new view of the network's gradient on every call: compared by address.)
        if (!(groups instanceof BaseMultiLayerUpdater<?> u) || gradientView == null || networkGradient == null
                || address(gradientView) != address(networkGradient) || gradientView.length() != networkGradient.length()
                || params.length() != gradientView.length() || params.elementWiseStride() != 1
                || gradientView.elementWiseStride() != 1) {
            return; // no updater yet (DL4J makes it inside this call), or a gradient from elsewhere
        }
        long start = address(params);
        long end = start + 4 * params.length();
        long covered = 0;
        boolean divisionFusable = true;
        for (UpdaterBlock block : u.getUpdaterBlocks()) {
            if (!(block.getGradientUpdater() instanceof OctetGroupUpdater octet) || !octet.fusable(start, end)
                    || block.skipDueToPretrainConfig(false)) {
                return;
            }
            covered += block.getParamOffsetEnd() - block.getParamOffsetStart();
            divisionFusable &= octet.divisible();
        }
        if (covered != params.length()) {
            return;
        }
        s.armed = true;
        s.params = start;
        s.length = params.length();
        s.updater = u;
        s.gradient = address(gradientView);
        s.divisionFusable = divisionFusable;
    }

    /**
     * In {@code BaseMultiLayerUpdater.divideByMinibatch(external, gradient, batchSize)}: true to leave DL4J's
     * division out, octet's groups dividing in their pass instead. (DL4J calls the network's own gradient
     * "external" when its view is another object than the updater's, as it always is in {@code fit}: the
     * gradient is compared by address, as at the start.)
     */
    static boolean divisionTaken(Object updater, Object gradient, int batchSize) {
        Dl4jFusedStep s = CURRENT.get();
        if (!s.armed || !s.divisionFusable || updater != s.updater || batchSize < 1) {
            return false;
        }
        INDArray view = ((Gradient) gradient).gradient();
        if (view == null || address(view) != s.gradient || view.length() != s.length) {
            return false;
        }
        s.divisor = batchSize;
        return true;
    }

    /** What this thread's groups divide the gradient by in the fused pass (1: DL4J divided it already). */
    static float divisor() {
        return CURRENT.get().divisor;
    }

    /** Whether the update groups apply what they write, in this thread's optimizer call now. */
    static boolean applies() {
        return CURRENT.get().armed;
    }

    /** An update group applied its update to {@code elements} parameters. */
    static void applied(long elements) {
        CURRENT.get().appliedElements += elements;
    }

    /**
     * At the end of the optimizer's update: when every parameter got its update, the step function's coming
     * call is left out; a partial one cannot be repaired, and stops the job rather than step twice.
     */
    static void updateEnds(Object gradient, boolean failed) {
        Dl4jFusedStep s = CURRENT.get();
        if (!s.armed) {
            return;
        }
        long applied = s.appliedElements;
        boolean divided = s.divisor != 1f;
        s.disarm();
        if (failed || applied == 0 && !divided) {
            return;
        }
        if (applied != s.length) {
            throw new IllegalStateException("octet applied the update to " + applied + " of " + s.length
                    + " parameters in its pass; DL4J's step would apply it to them again");
        }
        s.stepParams = s.params;
        s.stepGradient = address(((Gradient) gradient).gradient());
        if (TOLD.compareAndSet(false, true)) {
            Dl4jHooks.tell("octet: DL4J's step (params -= update) runs in octet's update pass (said once per JVM)");
        }
        if (divided && TOLD_DIVISION.compareAndSet(false, true)) {
            Dl4jHooks.tell("octet: DL4J's division of the gradient by the minibatch runs in octet's update pass"
                    + " (said once per JVM)");
        }
    }

    /**
     * In {@code UpdaterBlock.applyRegularizationAllVariables(step, ...)}: true to leave the pass out, for an octet
     * group without a regularization term of that step.
     */
    static boolean regularizationPassEmpty(Object group, Object step) {
        UpdaterBlock block = (UpdaterBlock) group;
        // Asked at every pass, as DL4J's pass asks: a few list look-ups, no views.
        if (!ENABLED || !(block.getGradientUpdater() instanceof OctetUpdater)
                || Dl4jHooks.regularizes(block, (Regularization.ApplyStep) step)) {
            return false;
        }
        if (TOLD_REGULARIZATION.compareAndSet(false, true)) {
            Dl4jHooks.tell("octet: DL4J's regularization passes are left out for octet's update groups without a"
                    + " regularization term (said once per JVM)");
        }
        return true;
    }

    /** In {@code NegativeGradientStepFunction.step(x, line)}: true to leave this call out (its work is done). */
    static boolean stepDone(Object x, Object line) {
        Dl4jFusedStep s = CURRENT.get();
        if (s.stepParams == 0) {
            return false;
        }
        INDArray p = (INDArray) x;
        INDArray u = (INDArray) line;
        boolean same = address(p) == s.stepParams && p.length() == s.length
                && address(u) == s.stepGradient && u.length() == s.length;
        s.stepParams = 0;
        if (!same) {
            throw new IllegalStateException("octet applied DL4J's update in its pass, but the step function was then "
                    + "given other arrays; it would apply an update twice");
        }
        return true;
    }

    private void disarm() {
        armed = false;
        appliedElements = 0;
        updater = null;
        divisionFusable = false;
        divisor = 1f;
    }

    /** An array's first element's host address (a view's offset included). */
    static long address(INDArray array) {
        return array.data().addressPointer().address();
    }
}
