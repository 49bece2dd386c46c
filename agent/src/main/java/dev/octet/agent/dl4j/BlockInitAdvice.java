package dev.octet.agent.dl4j;

import dev.octet.adapters.dl4j.Dl4jHooks;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into {@code UpdaterBlock.init()}: octet's updater instead of DL4J's, where octet sized the state.
 * (Advice parameters are typed {@code Object}: DL4J may not be visible where the agent starts.)
 */
final class BlockInitAdvice {

    private BlockInitAdvice() {
    }

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    static boolean enter(@Advice.This Object block, @Advice.FieldValue("gradientUpdater") Object current) {
        return Dl4jHooks.initBlock(block, current);
    }
}
