package dev.octet.adapters.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.octet.adapters.core.SavedState;
import org.junit.jupiter.api.Test;

/** {@code convert} finds stable embeddings in a DL4J configuration by this class's name, which core keeps for the agent. */
class StableEmbeddingNameTest {

    @Test
    void theNameConvertLooksForIsTheActivationsOwn() {
        assertEquals(StableEmbeddingActivation.class.getName(), SavedState.DL4J_STABLE_EMBEDDING_ACTIVATION);
    }
}
