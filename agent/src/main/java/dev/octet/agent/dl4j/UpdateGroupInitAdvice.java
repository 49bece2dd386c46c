package dev.octet.agent.dl4j;

import dev.octet.adapters.dl4j.Dl4jHooks;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into {@code UpdaterBlock.init()}: octet's updater instead of DL4J's, where octet sized the state.
 */
final class UpdateGroupInitAdvice {

    private UpdateGroupInitAdvice() {
    }

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    static boolean enter(@Advice.This Object group, @Advice.FieldValue("gradientUpdater") Object current) {
        return Dl4jHooks.initUpdateGroup(group, current);
    }
}
