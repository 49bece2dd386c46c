package dev.octet.agent.dl4j;

import dev.octet.adapters.dl4j.Dl4jHooks;
import net.bytebuddy.asm.Advice;

/** Inlined into {@code BaseMultiLayerUpdater(network, updaterState)}: brackets the layout. */
final class UpdaterConstructionAdvice {

    private UpdaterConstructionAdvice() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class)
    static void enter(@Advice.Argument(0) Object network) {
        Dl4jHooks.constructionStarts(network);
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object updater) {
        Dl4jHooks.constructionEnds(updater);
    }
}
