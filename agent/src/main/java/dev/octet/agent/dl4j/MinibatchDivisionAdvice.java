package dev.octet.agent.dl4j;

import dev.octet.adapters.dl4j.Dl4jHooks;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into {@code BaseMultiLayerUpdater.divideByMinibatch(external, gradient, batchSize)} (DL4J's
 * {@code gradient.divi(batchSize)} before the updaters): left out when octet's fused pass divides instead.
 */
final class MinibatchDivisionAdvice {

    private MinibatchDivisionAdvice() {
    }

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    static boolean enter(@Advice.This Object updater, @Advice.Argument(1) Object gradient, @Advice.Argument(2) int batchSize) {
        return Dl4jHooks.minibatchDivisionTaken(updater, gradient, batchSize);
    }
}
