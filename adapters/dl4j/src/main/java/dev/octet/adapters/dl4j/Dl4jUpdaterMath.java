package dev.octet.adapters.dl4j;

import dev.octet.adapters.core.OctetRuntime;
import dev.octet.kernels.StatisticFloor;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.UpdateRule;
import dev.octet.kernels.rules.AdaBeliefRule;
import dev.octet.kernels.rules.AdaDeltaRule;
import dev.octet.kernels.rules.AdaMaxRule;
import dev.octet.kernels.rules.AdamRule;
import dev.octet.kernels.rules.AmsGradRule;
import dev.octet.kernels.rules.NadamRule;
import dev.octet.kernels.rules.SquaredAverageRule;
import dev.octet.kernels.rules.VelocityNesterovRule;
import dev.octet.policy.OptimizerOverrides;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.learning.config.AMSGrad;
import org.nd4j.linalg.learning.config.AdaBelief;
import org.nd4j.linalg.learning.config.AdaDelta;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.AdaMax;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nadam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;

/**
 * The DL4J updaters octet stores 8-bit, each as DL4J 1.0.0-M2.1's libnd4j computes it
 * (docs/framework-optimizer-math.md, section A.3): its formula for one step as one of the kernels'
 * rules, whose operation order is DL4J's and whose statistics are in DL4J's order, and the value DL4J
 * gives its state when fresh.
 * DL4J counts {@code iteration} from 0; its bias corrections use {@code iteration + 1}.
 *
 * @param rules the rule for a configuration at an iteration and epoch
 * @param initialValue the fresh value of every statistic (DL4J starts RmsProp at epsilon, AdaGrad at 1e-6)
 */
record Dl4jUpdaterMath(RuleFactory rules, InitialValue initialValue) {

    @FunctionalInterface
    interface RuleFactory {
        UpdateRule rule(IUpdater config, int iteration, int epoch);
    }

    @FunctionalInterface
    interface InitialValue {
        float of(IUpdater config);
    }

    private static final InitialValue ZERO = config -> 0f;

    private static final Map<Class<? extends IUpdater>, Dl4jUpdaterMath> BY_CONFIG = Map.of(
            Adam.class, new Dl4jUpdaterMath((config, iteration, epoch) -> {
                Adam c = (Adam) config;
                return new AdamRule((float) c.getBeta1(), (float) c.getBeta2(), (float) c.getEpsilon(),
                        correctedStep(c.getLearningRate(iteration, epoch), c.getBeta1(), c.getBeta2(), c.getEpsilon(), iteration,
                                true), 1f, 0f, StatisticFloor.adam(c.getBeta1(), c.getBeta2(), iteration + 1L), true);
            }, ZERO),
            Nadam.class, new Dl4jUpdaterMath((config, iteration, epoch) -> {
                Nadam c = (Nadam) config;
                float correction1 = (float) (1.0 - (float) Math.pow((float) c.getBeta1(), iteration + 1f));
                return new NadamRule((float) c.getBeta1(), (float) c.getBeta2(), (float) c.getEpsilon(),
                        (float) c.getLearningRate(iteration, epoch), correction1,
                        StatisticFloor.adam(c.getBeta1(), c.getBeta2(), iteration + 1L));
            }, ZERO),
            AdaMax.class, new Dl4jUpdaterMath((config, iteration, epoch) -> {
                AdaMax c = (AdaMax) config;
                return new AdaMaxRule((float) c.getBeta1(), (float) c.getBeta2(), correctedStep(
                        c.getLearningRate(iteration, epoch), c.getBeta1(), c.getBeta2(), c.getEpsilon(), iteration, false),
                        StatisticFloor.adaMax(c.getBeta1(), c.getBeta2(), iteration + 1L));
            }, ZERO),
            AMSGrad.class, new Dl4jUpdaterMath((config, iteration, epoch) -> {
                AMSGrad c = (AMSGrad) config;
                return new AmsGradRule((float) c.getBeta1(), (float) c.getBeta2(), (float) c.getEpsilon(), correctedStep(
                        c.getLearningRate(iteration, epoch), c.getBeta1(), c.getBeta2(), c.getEpsilon(), iteration, true),
                        StatisticFloor.adam(c.getBeta1(), c.getBeta2(), iteration + 1L));
            }, ZERO),
            // DL4J 1.0.0-M2.1 cannot create its own AdaBelief updater (its instantiate throws); octet's can.
            AdaBelief.class, new Dl4jUpdaterMath((config, iteration, epoch) -> {
                AdaBelief c = (AdaBelief) config;
                return new AdaBeliefRule((float) c.getBeta1(), (float) c.getBeta2(), (float) c.getEpsilon(), correctedStep(
                        c.getLearningRate(iteration, epoch), c.getBeta1(), c.getBeta2(), c.getEpsilon(), iteration, true),
                        StatisticFloor.adaBelief(c.getBeta2(), c.getEpsilon(), iteration + 1L));
            }, ZERO),
            RmsProp.class, new Dl4jUpdaterMath((config, iteration, epoch) -> {
                RmsProp c = (RmsProp) config;
                float decay = (float) c.getRmsDecay();
                return new SquaredAverageRule((float) c.getLearningRate(iteration, epoch), decay, 1f - decay,
                        (float) c.getEpsilon(), 0f, false, StatisticKind.UNSIGNED);
            }, config -> (float) ((RmsProp) config).getEpsilon()),
            AdaGrad.class, new Dl4jUpdaterMath((config, iteration, epoch) -> {
                AdaGrad c = (AdaGrad) config;
                return new SquaredAverageRule((float) c.getLearningRate(iteration, epoch), 1f, 1f, (float) c.getEpsilon(),
                        0f, false, StatisticKind.UNSIGNED);
            }, config -> (float) AdaGrad.DEFAULT_ADAGRAD_EPSILON), // DL4J's AdaGradUpdater ignores the configured epsilon here
            AdaDelta.class, new Dl4jUpdaterMath((config, iteration, epoch) -> {
                AdaDelta c = (AdaDelta) config;
                return new AdaDeltaRule((float) c.getRho(), (float) c.getEpsilon());
            }, ZERO),
            Nesterovs.class, new Dl4jUpdaterMath((config, iteration, epoch) -> {
                Nesterovs c = (Nesterovs) config;
                return new VelocityNesterovRule((float) c.currentMomentum(iteration, epoch),
                        (float) c.getLearningRate(iteration, epoch));
            }, ZERO));

    /** The math for this updater configuration, or null when octet leaves it to DL4J. */
    static Dl4jUpdaterMath forConfig(IUpdater config) {
        return BY_CONFIG.get(config.getClass());
    }

    /**
     * A policy rule's {@code optimizer:} overrides applied to a copy of one parameter's updater
     * configuration ({@code config} itself when there are none): {@code learningRate} replaces the
     * learning rate and its schedule, {@code beta1}, {@code beta2}, {@code epsilon} and {@code momentum}
     * (which replaces the momentum schedule) the updater's own fields. A key the updater does not have
     * is ignored with one warning, and so is {@code weightDecay}: DL4J applies weight decay as the
     * layer's regularization, before its updater, and octet does not change that.
     */
    static IUpdater withOverrides(IUpdater config, OptimizerOverrides overrides, String parameter) {
        if (overrides.isEmpty()) {
            return config;
        }
        IUpdater copy = config.clone();
        List<String> ignored = new ArrayList<>();
        if (overrides.learningRate() != null) {
            if (copy.hasLearningRate()) {
                copy.setLrAndSchedule(overrides.learningRate(), null);
            } else {
                ignored.add("learningRate");
            }
        }
        if (overrides.beta1() != null && !set(copy, "setBeta1", overrides.beta1())) {
            ignored.add("beta1");
        }
        if (overrides.beta2() != null && !set(copy, "setBeta2", overrides.beta2())) {
            ignored.add("beta2");
        }
        if (overrides.epsilon() != null && !set(copy, "setEpsilon", overrides.epsilon())) {
            ignored.add("epsilon");
        }
        if (overrides.momentum() != null) {
            if (copy instanceof Nesterovs c) {
                c.setMomentum(overrides.momentum());
                c.setMomentumISchedule(null);
            } else {
                ignored.add("momentum");
            }
        }
        if (overrides.weightDecay() != null) {
            ignored.add("weightDecay (DL4J applies it as the layer's regularization, before the updater)");
        }
        if (!ignored.isEmpty()) {
            String updater = config.getClass().getSimpleName();
            OctetRuntime.warnOnce("dl4j-overrides:" + updater + ":" + ignored, "the policy overrides " + String.join(", ",
                    ignored) + " for " + parameter + " (and maybe others), which DL4J's " + updater
                    + " does not have; ignored");
        }
        return copy;
    }

    /**
     * Calls {@code config.<setter>(value)} where the updater has that setter: DL4J's configurations share
     * no interface for their hyperparameters, but name their (Lombok) setters alike.
     */
    private static boolean set(IUpdater config, String setter, double value) {
        try {
            config.getClass().getMethod(setter, double.class).invoke(config, value);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(config.getClass().getSimpleName() + "." + setter, e);
        }
    }

    /** The statistics this updater keeps, as its rule declares them. */
    StatisticKind[] statistics(IUpdater config) {
        return rules.rule(config, 0, 0).statistics();
    }

    UpdateRule rule(IUpdater config, int iteration, int epoch) {
        return rules.rule(config, iteration, epoch);
    }

    /**
     * The step size Adam, AdaMax, AMSGrad and AdaBelief share: {@code lr sqrt(1 - b2^t) / (1 - b1^t)}
     * (without the square root for AdaMax), and epsilon when that degenerates, as DL4J does.
     */
    static float correctedStep(double lr, double beta1, double beta2, double epsilon, int iteration, boolean secondMoment) {
        float t = iteration + 1f;
        float beta1t = (float) Math.pow((float) beta1, t);
        float beta2t = (float) Math.pow((float) beta2, t);
        float numerator = secondMoment ? (float) lr * (float) Math.sqrt((float) (1.0 - beta2t)) : (float) lr;
        float step = (float) (numerator / (1.0 - beta1t));
        return Float.isFinite(step) && step != 0f ? step : (float) epsilon;
    }
}
