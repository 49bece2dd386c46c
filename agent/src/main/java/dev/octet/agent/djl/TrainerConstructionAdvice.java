package dev.octet.agent.djl;

import ai.djl.Model;
import ai.djl.training.TrainingConfig;
import dev.octet.adapters.djl.DjlHooks;
import net.bytebuddy.asm.Advice;

/** Inlined at the end of {@code Trainer(Model, TrainingConfig)}: octet takes over its optimizer's state. */
final class TrainerConstructionAdvice {

    private TrainerConstructionAdvice() {
    }

    @Advice.OnMethodExit
    static void exit(@Advice.Argument(0) Model model, @Advice.Argument(1) TrainingConfig config) {
        DjlHooks.trainerCreated(model, config);
    }
}
