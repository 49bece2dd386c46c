package dev.octet.agent.djl;

import dev.octet.adapters.djl.DjlStableEmbeddings;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/** Inlined at the end of {@code Embedding.forwardInternal}: a stable embedding's output is layer-normalized. */
final class EmbeddingOutputAdvice {

    private EmbeddingOutputAdvice() {
    }

    @Advice.OnMethodExit
    static void exit(@Advice.This Object block,
            @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object result) {
        result = DjlStableEmbeddings.output(block, result);
    }
}
