package dev.octet.kernels.rules;

import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.UpdateRule;

/**
 * A rule of the Adam family, keeping a first moment (signed map) and a second statistic of magnitudes
 * (unsigned map) that it divides by: Adam, Nadam, AdaMax, AdaBelief.
 */
interface MomentsRule extends UpdateRule {

    @Override
    default StatisticKind[] statistics() {
        return new StatisticKind[] {StatisticKind.SIGNED, StatisticKind.UNSIGNED};
    }

    @Override
    default boolean divides(int statistic) {
        return statistic == 1;
    }

    /**
     * The first moment, {@code m = b1 m + (1 - b1) g}, is infinite or NaN for every non-finite g, a zero factor
     * included ({@code 0 * inf} is NaN).
     */
    @Override
    default boolean statisticsCarryNonFiniteGradients() {
        return true;
    }
}
