package dev.octet.agent.dl4j;

import dev.octet.adapters.dl4j.Dl4jHooks;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into {@code NegativeGradientStepFunction.step(params, update)} (DL4J's {@code params.subi(update)}
 * after SGD's updater): left out when octet's pass
 * already subtracted exactly this update from exactly these parameters.
 */
final class FusedStepAdvice {

    private FusedStepAdvice() {
    }

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    static boolean enter(@Advice.Argument(0) Object params, @Advice.Argument(1) Object update) {
        return Dl4jHooks.stepDone(params, update);
    }
}
