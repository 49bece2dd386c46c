package com.example.djlcharlm;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.listener.SaveModelTrainingListener;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Started in a child JVM by the integration tests: a DJL job written the way DJL's own examples are,
 * with {@code EasyTrain.fit} over an {@code ArrayDataset} (the example's model and Europarl windows,
 * batches in a fixed order) and DJL's {@code SaveModelTrainingListener} saving the model after every
 * epoch. Plain DJL, no octet.
 *
 * <p>Options ({@code --name value}): {@code epochs} (2), {@code phases} (1: the epochs are split among
 * this many trainers made one after another from the same training configuration, as a job that makes a
 * trainer per phase), {@code freeze-first-phase} (false: in the first phase only the output layer
 * trains, the rest is frozen, then everything trains, as in fine-tuning), {@code optimizer} (adam),
 * {@code save} (a folder for the listener's checkpoints), {@code load} (a folder: {@code Model.load}
 * its newest checkpoint first), {@code load-after-init} (a folder: {@code Model.load} its newest
 * checkpoint once the first trainer exists and is initialized, the other common way to resume),
 * {@code dump} (every parameter's values at the end).
 */
public final class EasyTrainJob {

    private static final int BATCH = 32;
    private static final int CONTEXT = 16;
    private static final int WINDOWS = 8 * BATCH;

    private EasyTrainJob() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].substring(2), args[i + 1]);
        }
        int epochs = Integer.parseInt(options.getOrDefault("epochs", "2"));
        int phases = Integer.parseInt(options.getOrDefault("phases", "1"));
        boolean freezeFirstPhase = Boolean.parseBoolean(options.getOrDefault("freeze-first-phase", "false"));
        int[] text = DjlCharLanguageModel.encode(DjlCharLanguageModel.readCorpus(200_000));
        Engine.getInstance().setRandomSeed(42);
        try (Model model = Model.newInstance("charlm"); NDManager data = NDManager.newBaseManager()) {
            Block net = DjlCharLanguageModel.block(64, 256, 2);
            model.setBlock(net);
            if (options.containsKey("load")) {
                model.load(Path.of(options.get("load")), "charlm");
                System.out.println("loaded epoch " + model.getProperty("Epoch"));
            }
            var xy = DjlCharLanguageModel.batch(data, text, WINDOWS, CONTEXT, new Random(7));
            ArrayDataset dataset = new ArrayDataset.Builder().setData(xy[0].singletonOrThrow())
                    .optLabels(xy[1].singletonOrThrow()).setSampling(BATCH, false).build();
            Optimizer optimizer = DjlCharLanguageModel.optimizer(options.getOrDefault("optimizer", "adam"), 0.002f);
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(optimizer);
            if (options.containsKey("save")) {
                config.addTrainingListeners(new SaveModelTrainingListener(options.get("save"), null, 1));
            }
            List<Block> layers = net.getChildren().values();
            for (int phase = 0; phase < phases; phase++) {
                boolean frozen = freezeFirstPhase && phase == 0;
                for (int i = 0; i < layers.size() - 1; i++) {
                    layers.get(i).freezeParameters(frozen);
                }
                try (Trainer trainer = model.newTrainer(config)) {
                    trainer.initialize(new Shape(BATCH, CONTEXT));
                    if (phase == 0 && options.containsKey("load-after-init")) {
                        model.load(Path.of(options.get("load-after-init")), "charlm");
                        System.out.println("loaded epoch " + model.getProperty("Epoch"));
                    }
                    EasyTrain.fit(trainer, epochs / phases, dataset, null);
                    System.out.println("phase " + (phase + 1) + " done");
                }
            }
            if (options.containsKey("dump")) {
                DjlCharLanguageModel.dump(net, Path.of(options.get("dump")));
            }
        }
    }
}
