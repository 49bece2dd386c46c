package dev.octet.kernels.rules;

import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.UpdateRule;

/**
 * A one-statistic rule stepping by its learning rate: momentum, Lion. The reference
 * stores the single statistic of every such optimizer on the signed map.
 */
interface SignedStatisticRule extends UpdateRule {

    float learningRate();

    @Override
    default StatisticKind[] statistics() {
        return new StatisticKind[] {StatisticKind.SIGNED};
    }

    @Override
    default float stepScale() {
        return learningRate();
    }
}
