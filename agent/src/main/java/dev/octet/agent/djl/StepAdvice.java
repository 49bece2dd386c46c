package dev.octet.agent.djl;

import dev.octet.adapters.djl.DjlHooks;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into {@code ParameterStore.updateAllParameters()}, DJL's step over all parameters: octet's GPU
 * updates recorded during it are launched together when it ends (also when it throws).
 */
final class StepAdvice {

    private StepAdvice() {
    }

    @Advice.OnMethodEnter
    static void enter() {
        DjlHooks.stepStarts();
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class)
    static void exit() {
        DjlHooks.stepEnds();
    }
}
