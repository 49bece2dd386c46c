package dev.octet.agent.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.training.optimizer.Optimizer;
import dev.octet.adapters.djl.DjlHooks;
import net.bytebuddy.asm.Advice;

/** Inlined into {@code LocalParameterServer.update(id, grads, params)}: octet's update replaces DJL's where octet runs it. */
final class ParameterUpdateAdvice {

    private ParameterUpdateAdvice() {
    }

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    static boolean enter(@Advice.FieldValue("optimizer") Optimizer optimizer, @Advice.Argument(0) String parameterId,
            @Advice.Argument(1) NDArray[] grads, @Advice.Argument(2) NDArray[] params) {
        return DjlHooks.update(optimizer, parameterId, grads, params);
    }
}
