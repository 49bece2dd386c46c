package dev.octet.adapters.dl4j;

import dev.octet.adapters.core.HookFailures;
import dev.octet.adapters.core.OctetRuntime;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Stable embeddings for the embedding layers a policy names: Xavier-uniform initialisation over the
 * weight's real shape, layer normalisation of the output ({@link StableEmbeddingActivation}), and
 * (through the policy's decision) float32 optimizer state for the weights. Called when DL4J creates an
 * embedding layer from its configuration.
 */
public final class Dl4jStableEmbeddings {

    private Dl4jStableEmbeddings() {
    }

    /** Before {@code instantiate}: puts the layer norm into a named embedding layer's configuration. */
    public static void prepare(Object layerConfiguration) {
        try {
            prepareLayer(layerConfiguration);
        } catch (RuntimeException | LinkageError e) {
            HookFailures.standAside("DL4J", "stable embedding", e, "that embedding layer stays DL4J's plain one");
        }
    }

    private static void prepareLayer(Object layerConfiguration) {
        if (!(layerConfiguration instanceof BaseLayer conf) || !isEmbedding(conf)
                || conf.getActivationFn() instanceof StableEmbeddingActivation
                || OctetRuntime.policy().isStableEmbedding(conf.getLayerName()).isEmpty()) {
            return;
        }
        int featureAxis = conf instanceof EmbeddingSequenceLayer seq && seq.getOutputFormat() == RNNFormat.NWC ? 2 : 1;
        conf.setActivationFn(new StableEmbeddingActivation(conf.getActivationFn(), featureAxis));
    }

    /** After {@code instantiate}: Xavier-uniform weights, where DL4J initialised them just now. */
    public static void initialize(Object layerConfiguration, Object layer, boolean initializeParams) {
        try {
            initializeLayer(layerConfiguration, layer, initializeParams);
        } catch (RuntimeException | LinkageError e) {
            HookFailures.standAside("DL4J", "stable embedding initialisation", e,
                    "that embedding layer keeps DL4J's own initial weights");
        }
    }

    private static void initializeLayer(Object layerConfiguration, Object layer, boolean initializeParams) {
        if (!initializeParams || !(layerConfiguration instanceof BaseLayer conf)
                || !(conf.getActivationFn() instanceof StableEmbeddingActivation) || !(layer instanceof Layer built)) {
            return;
        }
        INDArray weights = built.getParam(DefaultParamInitializer.WEIGHT_KEY);
        double limit = Math.sqrt(6.0 / (weights.size(0) + weights.size(1)));
        weights.assign(Nd4j.rand(weights.dataType(), weights.shape()).muli(2 * limit).subi(limit));
    }

    private static boolean isEmbedding(BaseLayer conf) {
        return conf instanceof EmbeddingLayer || conf instanceof EmbeddingSequenceLayer;
    }
}
