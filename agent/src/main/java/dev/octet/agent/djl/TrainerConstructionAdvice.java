package dev.octet.agent.djl;

import dev.octet.adapters.djl.DjlHooks;
import net.bytebuddy.asm.Advice;

/** Inlined at the end of {@code Trainer(Model, TrainingConfig)}: octet takes over its optimizer's state. */
final class TrainerConstructionAdvice {

    private TrainerConstructionAdvice() {
    }

    @Advice.OnMethodExit
    static void exit(@Advice.Argument(0) Object model, @Advice.Argument(1) Object config) {
        DjlHooks.trainerCreated(model, config);
    }
}
