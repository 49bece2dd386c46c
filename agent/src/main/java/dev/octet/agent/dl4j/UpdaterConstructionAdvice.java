package dev.octet.agent.dl4j;

import dev.octet.adapters.dl4j.Dl4jHooks;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into {@code BaseMultiLayerUpdater(network, updaterState)}: brackets the layout. Nothing is
 * suppressed here: the hooks handle their own failures (HookFailures), and what they let through stops the job.
 */
final class UpdaterConstructionAdvice {

    private UpdaterConstructionAdvice() {
    }

    @Advice.OnMethodEnter
    static void enter(@Advice.Argument(0) Object network) {
        Dl4jHooks.constructionStarts(network);
    }

    @Advice.OnMethodExit
    static void exit(@Advice.This Object updater) {
        Dl4jHooks.constructionEnds(updater);
    }
}
