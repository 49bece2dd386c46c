package dev.octet.agent.djl;

import ai.djl.nn.Parameter;
import dev.octet.adapters.djl.DjlHooks;
import net.bytebuddy.asm.Advice;

/**
 * Inlined at the (normal) end of {@code Parameter.load(manager, stream)}, which gives the parameter a new
 * array: octet notes which array a stream made, so it can tell a {@code Model.load} (whose file it knows)
 * from a {@code Block.loadParameters} the job called itself (whose file it cannot know).
 */
final class ParameterLoadAdvice {

    private ParameterLoadAdvice() {
    }

    @Advice.OnMethodExit
    static void exit(@Advice.This Parameter parameter) {
        DjlHooks.parameterLoaded(parameter);
    }
}
