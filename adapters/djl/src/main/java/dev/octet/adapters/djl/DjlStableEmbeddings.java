package dev.octet.adapters.djl;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.training.initializer.XavierInitializer;
import dev.octet.adapters.core.HookFailures;
import dev.octet.adapters.core.OctetRuntime;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Stable embeddings (docs/technique.md section 5) for the DJL embedding blocks the policy names
 * ({@code stableEmbeddings}, matched against the block's layer name, e.g. {@code 01TrainableWordEmbedding}):
 * Xavier-uniform initialisation of the table (DJL's {@code XavierInitializer(UNIFORM, AVG, 3)}, which is
 * {@code U(-sqrt(6 / (rows + columns)), +...)}), a layer normalisation (no learned scale or shift)
 * over the last axis of the block's output, and float32 optimizer state for the table (the policy
 * decides that from the same pattern).
 *
 * <p>The normalisation is part of the model's function: the same job loaded without the agent computes
 * plain embeddings. That is why octet applies it whenever the model is trained or loaded under the agent.
 */
public final class DjlStableEmbeddings {

    private static final float EPSILON = 1e-5f;
    private static final Set<Object> STABLE = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    private DjlStableEmbeddings() {
    }

    /** Marks the model's embedding blocks the policy names; sets their initializer when not yet initialized. */
    static void mark(Model model) {
        Block root = model.getBlock();
        if (root == null || OctetRuntime.policy().stableEmbeddings().isEmpty()) {
            return;
        }
        DjlNames.forEachBlock(root, "", (layerName, block) -> {
            if (OctetRuntime.policy().isStableEmbedding(layerName).isEmpty()) {
                return;
            }
            if (!(block instanceof Embedding<?> embedding)) {
                OctetRuntime.warnOnce("djl-stable:" + model.getName() + ":" + System.identityHashCode(model) + ":" + layerName,
                        "the policy names " + layerName + " a stable embedding, but in the model " + model.getName() + " it is a "
                        + block.getClass().getSimpleName() + ", not a DJL Embedding; it only keeps float32 optimizer state");
                return;
            }
            if (STABLE.add(embedding)) {
                boolean initialized = embedding.getDirectParameters().values().stream().allMatch(Parameter::isInitialized);
                if (!initialized) {
                    embedding.setInitializer(new XavierInitializer(XavierInitializer.RandomType.UNIFORM,
                            XavierInitializer.FactorType.AVG, 3f), Parameter.Type.WEIGHT);
                }
            }
        });
    }

    /** Called with what {@code Embedding.forwardInternal} returns: the layer-normalized output for a stable one. */
    public static Object output(Object block, Object result) {
        try {
            return normalized(block, result);
        } catch (RuntimeException | LinkageError e) {
            // From now on the block's output stays plain: not normalised in some steps and not in others.
            STABLE.remove(block);
            HookFailures.standAside("DJL", "stable embedding", e, "that Embedding's output stays DJL's plain one from here on");
            return result;
        }
    }

    private static Object normalized(Object block, Object result) {
        if (!STABLE.contains(block) || !(result instanceof NDList list) || list.size() != 1) {
            return result;
        }
        NDArray x = list.head();
        NDArray centered = x.sub(x.mean(new int[] {-1}, true));
        NDArray variance = centered.square().mean(new int[] {-1}, true);
        return new NDList(centered.div(variance.add(EPSILON).sqrt()));
    }

}
