package dev.octet.agent.dl4j;

import dev.octet.adapters.dl4j.Dl4jHooks;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into {@code UpdaterBlock.applyRegularizationAllVariables(step, iteration, epoch, external, gradient,
 * params)}, one of DL4J's two regularization passes over an update group: left out for octet's groups without a
 * regularization term of that step, where it would only make views.
 */
final class RegularizationPassAdvice {

    private RegularizationPassAdvice() {
    }

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    static boolean enter(@Advice.This Object group, @Advice.Argument(0) Object step) {
        return Dl4jHooks.regularizationPassEmpty(group, step);
    }
}
