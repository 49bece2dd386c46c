package dev.octet.agent.dl4j;

import dev.octet.adapters.dl4j.Dl4jStableEmbeddings;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into the embedding layers' {@code instantiate}: stable embeddings where the policy names them
 * (the hooks handle their own failures, HookFailures).
 */
final class EmbeddingInstantiateAdvice {

    private EmbeddingInstantiateAdvice() {
    }

    @Advice.OnMethodEnter
    static void enter(@Advice.This Object configuration) {
        Dl4jStableEmbeddings.prepare(configuration);
    }

    @Advice.OnMethodExit
    static void exit(@Advice.This Object configuration, @Advice.Return Object layer, @Advice.Argument(4) boolean initializeParams) {
        Dl4jStableEmbeddings.initialize(configuration, layer, initializeParams);
    }
}
