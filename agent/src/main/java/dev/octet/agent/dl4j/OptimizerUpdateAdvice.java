package dev.octet.agent.dl4j;

import dev.octet.adapters.dl4j.Dl4jHooks;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into {@code BaseOptimizer.updateGradientAccordingToParams}: around the updater's pass, whether
 * octet's pass also applies the update (then DL4J's step function is left out once: {@link FusedStepAdvice}).
 */
final class OptimizerUpdateAdvice {

    private OptimizerUpdateAdvice() {
    }

    @Advice.OnMethodEnter
    static void enter(@Advice.This Object optimizer, @Advice.FieldValue("stepFunction") Object stepFunction,
            @Advice.FieldValue("accumulator") Object accumulator, @Advice.FieldValue("updater") Object updater,
            @Advice.FieldValue("computationGraphUpdater") Object graphUpdater, @Advice.Argument(0) Object gradient,
            @Advice.Argument(1) Object model) {
        Dl4jHooks.optimizerUpdateStarts(optimizer, stepFunction, accumulator, updater, graphUpdater, gradient, model);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class)
    static void exit(@Advice.Argument(0) Object gradient, @Advice.Thrown Throwable thrown) {
        Dl4jHooks.optimizerUpdateEnds(gradient, thrown);
    }
}
