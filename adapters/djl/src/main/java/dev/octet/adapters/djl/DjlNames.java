package dev.octet.adapters.djl;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The names DJL users see. A parameter's name is its path from {@code block.getParameters()}
 * ({@code 02Linear_weight}: child blocks are numbered in the order they were added, so the name is
 * the same in every run, unlike the parameter's {@code uid-<nanoTime>} id). Its layer is the block that
 * holds it directly: the layer name is the parameter's path without the parameter's own name
 * ({@code 02Linear}), the layer type the block's class ({@code Linear}).
 */
final class DjlNames {

    private DjlNames() {
    }

    /** Fills {@code owners} with, per parameter of the tree under {@code root}, {layer name, layer type}. */
    static void collectOwners(Block root, Map<Parameter, String[]> owners) {
        forEachBlock(root, "", (layerName, block) -> {
            for (Pair<String, Parameter> p : block.getDirectParameters()) {
                owners.put(p.getValue(), new String[] {layerName, block.getClass().getSimpleName()});
            }
        });
    }

    /** Calls {@code visit} with every block of the tree and its layer name. */
    static void forEachBlock(Block block, String path, BiConsumer<String, Block> visit) {
        visit.accept(path.isEmpty() ? block.getClass().getSimpleName() : path, block);
        for (Pair<String, Block> child : block.getChildren()) {
            forEachBlock(child.getValue(), path.isEmpty() ? child.getKey() : path + "_" + child.getKey(), visit);
        }
    }
}
