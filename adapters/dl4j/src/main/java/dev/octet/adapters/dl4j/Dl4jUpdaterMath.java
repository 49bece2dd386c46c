package dev.octet.adapters.dl4j;

import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.UpdateRule;
import dev.octet.kernels.rules.AdamRule;
import java.util.Map;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The DL4J updaters octet can store 8-bit, each as DL4J computes it: its statistics in the order DL4J
 * lays them out in its state view, and its formula for one step as an octet rule. The update a rule
 * produces is what DL4J's own updater writes into the gradient (the step function then subtracts it).
 */
abstract class Dl4jUpdaterMath {

    private static final Map<Class<? extends IUpdater>, Dl4jUpdaterMath> BY_CONFIG = Map.of(
            Adam.class, new AdamMath());

    /** The math for this updater configuration, or null when octet leaves it to DL4J. */
    static Dl4jUpdaterMath forConfig(IUpdater config) {
        return BY_CONFIG.get(config.getClass());
    }

    abstract StatisticKind[] statistics();

    /** The rule for one step; DL4J counts {@code iteration} from 0. */
    abstract UpdateRule rule(IUpdater config, int iteration, int epoch);

    /** DL4J's Adam: bias corrections folded into the step, epsilon added to the raw sqrt(v). */
    static final class AdamMath extends Dl4jUpdaterMath {
        @Override
        StatisticKind[] statistics() {
            return new StatisticKind[] {StatisticKind.SIGNED, StatisticKind.UNSIGNED};
        }

        @Override
        UpdateRule rule(IUpdater config, int iteration, int epoch) {
            Adam adam = (Adam) config;
            float beta1 = (float) adam.getBeta1();
            float beta2 = (float) adam.getBeta2();
            float epsilon = (float) adam.getEpsilon();
            float lr = (float) adam.getLearningRate(iteration, epoch);
            float beta1t = (float) Math.pow(beta1, iteration + 1);
            float beta2t = (float) Math.pow(beta2, iteration + 1);
            float stepScale = lr * (float) Math.sqrt(1f - beta2t) / (1f - beta1t);
            if (!Float.isFinite(stepScale) || stepScale == 0f) {
                stepScale = epsilon; // as DL4J does when the corrected rate degenerates
            }
            return new AdamRule(beta1, beta2, epsilon, stepScale, 1f, 0f);
        }
    }
}
