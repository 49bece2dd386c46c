package dev.octet.adapters.dl4j;

import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.UpdateRule;
import dev.octet.kernels.rules.AdamRule;
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
 * The DL4J updaters octet stores 8-bit, each as DL4J computes it: its statistics in the order DL4J
 * lays them out, their initial values, and its formula for one step as an octet rule (DL4J counts
 * {@code iteration} from 0; its bias corrections use {@code iteration + 1}).
 */
abstract class Dl4jUpdaterMath {

    private static final Map<Class<? extends IUpdater>, Dl4jUpdaterMath> BY_CONFIG = Map.of(
            Adam.class, new AdamMath(),
            Nadam.class, new NadamMath(),
            AdaMax.class, new AdaMaxMath(),
            AMSGrad.class, new AmsGradMath(),
            AdaBelief.class, new AdaBeliefMath(),
            RmsProp.class, new RmsPropMath(),
            AdaGrad.class, new AdaGradMath(),
            AdaDelta.class, new AdaDeltaMath(),
            Nesterovs.class, new NesterovsMath());

    /** The math for this updater configuration, or null when octet leaves it to DL4J. */
    static Dl4jUpdaterMath forConfig(IUpdater config) {
        return BY_CONFIG.get(config.getClass());
    }

    abstract StatisticKind[] statistics();

    /** The rule for one step. */
    abstract UpdateRule rule(IUpdater config, int iteration, int epoch);

    /** The value DL4J gives a statistic in a fresh state (most start at 0). */
    float initialValue(IUpdater config, int statistic) {
        return 0f;
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

    static final class AdamMath extends Dl4jUpdaterMath {
        @Override
        StatisticKind[] statistics() {
            return new StatisticKind[] {StatisticKind.SIGNED, StatisticKind.UNSIGNED};
        }

        @Override
        UpdateRule rule(IUpdater config, int iteration, int epoch) {
            Adam c = (Adam) config;
            return new AdamRule((float) c.getBeta1(), (float) c.getBeta2(), (float) c.getEpsilon(),
                    correctedStep(c.getLearningRate(iteration, epoch), c.getBeta1(), c.getBeta2(), c.getEpsilon(),
                            iteration, true), 1f, 0f);
        }
    }

    static final class NadamMath extends Dl4jUpdaterMath {
        @Override
        StatisticKind[] statistics() {
            return new StatisticKind[] {StatisticKind.SIGNED, StatisticKind.UNSIGNED};
        }

        @Override
        UpdateRule rule(IUpdater config, int iteration, int epoch) {
            Nadam c = (Nadam) config;
            float correction1 = (float) (1.0 - (float) Math.pow((float) c.getBeta1(), iteration + 1f));
            return new Dl4jRules.Nadam((float) c.getBeta1(), (float) c.getBeta2(), (float) c.getEpsilon(),
                    (float) c.getLearningRate(iteration, epoch), correction1);
        }
    }

    static final class AdaMaxMath extends Dl4jUpdaterMath {
        @Override
        StatisticKind[] statistics() {
            return new StatisticKind[] {StatisticKind.SIGNED, StatisticKind.UNSIGNED};
        }

        @Override
        UpdateRule rule(IUpdater config, int iteration, int epoch) {
            AdaMax c = (AdaMax) config;
            return new Dl4jRules.AdaMax((float) c.getBeta1(), (float) c.getBeta2(), correctedStep(
                    c.getLearningRate(iteration, epoch), c.getBeta1(), c.getBeta2(), c.getEpsilon(), iteration, false));
        }
    }

    static final class AmsGradMath extends Dl4jUpdaterMath {
        @Override
        StatisticKind[] statistics() {
            return new StatisticKind[] {StatisticKind.SIGNED, StatisticKind.UNSIGNED, StatisticKind.UNSIGNED};
        }

        @Override
        UpdateRule rule(IUpdater config, int iteration, int epoch) {
            AMSGrad c = (AMSGrad) config;
            return new Dl4jRules.AmsGrad((float) c.getBeta1(), (float) c.getBeta2(), (float) c.getEpsilon(), correctedStep(
                    c.getLearningRate(iteration, epoch), c.getBeta1(), c.getBeta2(), c.getEpsilon(), iteration, true));
        }
    }

    /** DL4J 1.0.0-M2.1 cannot create its own AdaBelief updater (its instantiate throws); octet's can. */
    static final class AdaBeliefMath extends Dl4jUpdaterMath {
        @Override
        StatisticKind[] statistics() {
            return new StatisticKind[] {StatisticKind.SIGNED, StatisticKind.UNSIGNED};
        }

        @Override
        UpdateRule rule(IUpdater config, int iteration, int epoch) {
            AdaBelief c = (AdaBelief) config;
            return new Dl4jRules.AdaBelief((float) c.getBeta1(), (float) c.getBeta2(), (float) c.getEpsilon(), correctedStep(
                    c.getLearningRate(iteration, epoch), c.getBeta1(), c.getBeta2(), c.getEpsilon(), iteration, true));
        }
    }

    static final class RmsPropMath extends Dl4jUpdaterMath {
        @Override
        StatisticKind[] statistics() {
            return new StatisticKind[] {StatisticKind.UNSIGNED};
        }

        @Override
        UpdateRule rule(IUpdater config, int iteration, int epoch) {
            RmsProp c = (RmsProp) config;
            float decay = (float) c.getRmsDecay();
            return new Dl4jRules.SquaredAverage(decay, 1f - decay, (float) c.getEpsilon(),
                    (float) c.getLearningRate(iteration, epoch));
        }

        @Override
        float initialValue(IUpdater config, int statistic) {
            return (float) ((RmsProp) config).getEpsilon(); // DL4J fills its state with epsilon
        }
    }

    static final class AdaGradMath extends Dl4jUpdaterMath {
        @Override
        StatisticKind[] statistics() {
            return new StatisticKind[] {StatisticKind.UNSIGNED};
        }

        @Override
        UpdateRule rule(IUpdater config, int iteration, int epoch) {
            AdaGrad c = (AdaGrad) config;
            return new Dl4jRules.SquaredAverage(1f, 1f, (float) c.getEpsilon(), (float) c.getLearningRate(iteration, epoch));
        }

        @Override
        float initialValue(IUpdater config, int statistic) {
            return (float) AdaGrad.DEFAULT_ADAGRAD_EPSILON; // DL4J's AdaGradUpdater ignores the configured epsilon here
        }
    }

    static final class AdaDeltaMath extends Dl4jUpdaterMath {
        @Override
        StatisticKind[] statistics() {
            return new StatisticKind[] {StatisticKind.UNSIGNED, StatisticKind.UNSIGNED};
        }

        @Override
        UpdateRule rule(IUpdater config, int iteration, int epoch) {
            AdaDelta c = (AdaDelta) config;
            return new Dl4jRules.AdaDelta((float) c.getRho(), (float) c.getEpsilon());
        }
    }

    static final class NesterovsMath extends Dl4jUpdaterMath {
        @Override
        StatisticKind[] statistics() {
            return new StatisticKind[] {StatisticKind.SIGNED};
        }

        @Override
        UpdateRule rule(IUpdater config, int iteration, int epoch) {
            Nesterovs c = (Nesterovs) config;
            return new Dl4jRules.Nesterovs((float) c.currentMomentum(iteration, epoch),
                    (float) c.getLearningRate(iteration, epoch));
        }
    }
}
