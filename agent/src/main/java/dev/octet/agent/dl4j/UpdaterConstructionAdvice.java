package dev.octet.agent.dl4j;

import dev.octet.adapters.dl4j.Dl4jHooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * Inlined into {@code BaseMultiLayerUpdater(network, updaterState)}: brackets the layout; a given state
 * (dl4j-spark's workers) is withheld from DL4J and put into octet's view at the end. Nothing is
 * suppressed here: the hooks handle their own failures (HookFailures), and what they let through stops the job.
 */
final class UpdaterConstructionAdvice {

    private UpdaterConstructionAdvice() {
    }

    @Advice.OnMethodEnter
    static Object enter(@Advice.Argument(0) Object network,
            @Advice.Argument(value = 1, readOnly = false, typing = Assigner.Typing.DYNAMIC) Object updaterState) {
        Object given = Dl4jHooks.constructionStarts(network, updaterState);
        if (given != null) {
            updaterState = null;
        }
        return given;
    }

    @Advice.OnMethodExit
    static void exit(@Advice.This Object updater, @Advice.Enter Object given) {
        Dl4jHooks.constructionEnds(updater, given);
    }
}
