package dev.octet.agent.djl;

import ai.djl.Model;
import dev.octet.adapters.djl.DjlHooks;
import java.nio.file.Path;
import net.bytebuddy.asm.Advice;

/** Inlined at the (normal) end of {@code BaseModel.save(modelPath, newModelName)}: octet's state beside the parameters. */
final class ModelSaveAdvice {

    private ModelSaveAdvice() {
    }

    @Advice.OnMethodExit
    static void exit(@Advice.This Model model, @Advice.Argument(0) Path modelPath, @Advice.Argument(1) String newModelName) {
        DjlHooks.modelSaved(model, modelPath, newModelName);
    }
}
