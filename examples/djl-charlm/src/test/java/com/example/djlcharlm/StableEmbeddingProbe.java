package com.example.djlcharlm;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import java.util.Locale;

/**
 * Started in a child JVM by the integration tests (with and without the agent): builds the example's
 * model as the example does, and prints what its embedding block computes for 64 character ids (the
 * mean and variance of each output row) and the range of its initial weights. Plain DJL, no octet.
 */
public final class StableEmbeddingProbe {

    private StableEmbeddingProbe() {
    }

    public static void main(String[] args) {
        Engine.getInstance().setRandomSeed(42);
        try (Model model = Model.newInstance("charlm")) {
            model.setBlock(DjlCharLanguageModel.block(64, 256, 2));
            try (Trainer trainer = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .optOptimizer(Optimizer.adam().build()))) {
                trainer.initialize(new Shape(4, 16));
                Block embedding = model.getBlock().getChildren().get(0).getValue();
                NDManager manager = trainer.getManager();
                NDArray ids = manager.arange(0, 64, 1, DataType.INT64).reshape(4, 16);
                NDArray out = embedding.forward(new ParameterStore(manager, false), new NDList(ids), false).singletonOrThrow();
                NDArray rowMean = out.mean(new int[] {-1});
                NDArray rowVariance = out.sub(out.mean(new int[] {-1}, true)).square().mean(new int[] {-1});
                NDArray weights = embedding.getParameters().get(0).getValue().getArray();
                System.out.printf(Locale.ROOT, "embedding output %s: max |row mean| %.3e, row variance %.6f to %.6f%n",
                        out.getShape(), rowMean.abs().max().getFloat(), rowVariance.min().getFloat(), rowVariance.max().getFloat());
                System.out.printf(Locale.ROOT, "embedding weights %s: max |w| %.6f, mean %.6f%n", weights.getShape(),
                        weights.abs().max().getFloat(), weights.mean().getFloat());
            }
        }
    }
}
