package dev.octet.agent.djl;

import ai.djl.Model;
import dev.octet.adapters.djl.DjlHooks;
import java.nio.file.Path;
import net.bytebuddy.asm.Advice;

/** Inlined at the (normal) end of {@code BaseModel.readParameters(paramFile, options)}: remembers where octet's state is. */
final class ReadParametersAdvice {

    private ReadParametersAdvice() {
    }

    @Advice.OnMethodExit
    static void exit(@Advice.This Model model, @Advice.Argument(0) Path paramFile) {
        DjlHooks.parametersRead(model, paramFile);
    }
}
