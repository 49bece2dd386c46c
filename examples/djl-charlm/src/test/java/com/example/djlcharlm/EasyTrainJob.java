package com.example.djlcharlm;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.listener.SaveModelTrainingListener;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Pair;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
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
 * its newest checkpoint first), {@code load-after-trainer} (a folder: {@code Model.load} its newest
 * checkpoint once the first trainer exists, before {@code Trainer.initialize}), {@code load-after-init}
 * (a folder: the same once the first trainer is initialized, before its first step),
 * {@code load-after-epoch} (a folder: the same after the first trainer's first epoch; then it trains the
 * rest of its epochs), {@code save-before-steps} (a folder: {@code Model.save} once the first trainer is
 * initialized, before its first step), {@code dump} (every parameter's values at the end, as the model holds them: what
 * {@code Model.save} would write), {@code dump-trained} (the values the last trainer trained, from its
 * {@code ParameterStore}: after a late load, DJL's trainer trains other arrays than the model holds),
 * {@code models} (1: trains this many models one after another, each as above, named {@code charlm},
 * {@code charlm2}, ...; a job with several models), {@code block-save} (a file: at the end, the block's
 * parameters written with {@code Block.saveParameters}), {@code block-load} (a file: the job reads it
 * itself with {@code Block.loadParameters} before the trainer, as some DJL examples do, no {@code Model.load}),
 * {@code block-load-after-init} (a file: the same once the first trainer is initialized),
 * {@code second-model} (a folder: a second {@code Model} instance of the same name {@code Model.load}s its
 * newest checkpoint into the same block object, or with {@code second-model-block new} into a new block;
 * by default once the first model's training is over, with {@code second-model-at after-epoch} after the
 * first trainer's first epoch, that trainer then training its other epochs; then a trainer from the second
 * model, with a new training configuration, trains {@code second-epochs} (2) epochs, and
 * {@code second-dump-trained} is what it trained).
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
        int models = Integer.parseInt(options.getOrDefault("models", "1"));
        for (int i = 1; i <= models; i++) {
            train(i == 1 ? "charlm" : "charlm" + i, options, epochs, phases, freezeFirstPhase, text);
        }
    }

    private static void train(String name, Map<String, String> options, int epochs, int phases, boolean freezeFirstPhase,
            int[] text) throws Exception {
        Engine.getInstance().setRandomSeed(42);
        Model second = null;
        try (Model model = Model.newInstance(name); NDManager data = NDManager.newBaseManager()) {
            Block net = DjlCharLanguageModel.block(64, 256, 2);
            model.setBlock(net);
            load(model, options.get("load"));
            blockLoad(model, options.get("block-load"));
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
                    if (phase == 0) {
                        load(model, options.get("load-after-trainer"));
                    }
                    trainer.initialize(new Shape(BATCH, CONTEXT));
                    if (phase == 0) {
                        load(model, options.get("load-after-init"));
                        blockLoad(model, options.get("block-load-after-init"));
                        if (options.containsKey("save-before-steps")) {
                            model.save(Path.of(options.get("save-before-steps")), "charlm");
                        }
                    }
                    int phaseEpochs = epochs / phases;
                    boolean secondAfterEpoch = "after-epoch".equals(options.get("second-model-at"));
                    if (phase == 0 && (options.containsKey("load-after-epoch") || secondAfterEpoch)) {
                        EasyTrain.fit(trainer, 1, dataset, null);
                        load(model, options.get("load-after-epoch"));
                        if (secondAfterEpoch) {
                            second = secondModel(name, net, options);
                        }
                        phaseEpochs--;
                    }
                    EasyTrain.fit(trainer, phaseEpochs, dataset, null);
                    System.out.println("phase " + (phase + 1) + " done");
                    if (phase == phases - 1 && options.containsKey("dump-trained")) {
                        dumpTrained(trainer, net, Path.of(options.get("dump-trained")));
                    }
                }
            }
            if (options.containsKey("dump")) {
                DjlCharLanguageModel.dump(net, Path.of(options.get("dump")));
            }
            if (options.containsKey("block-save")) {
                try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
                        Files.newOutputStream(Path.of(options.get("block-save")))))) {
                    net.saveParameters(out);
                }
            }
            if (options.containsKey("second-model")) {
                if (second == null) {
                    second = secondModel(name, net, options);
                }
                trainSecond(second, dataset, options);
            }
        } finally {
            if (second != null) {
                second.close();
            }
        }
    }

    /** A second {@code Model} instance of the same name that {@code Model.load}s the newest checkpoint of {@code second-model}. */
    private static Model secondModel(String name, Block net, Map<String, String> options) throws Exception {
        Model second = Model.newInstance(name);
        second.setBlock("new".equals(options.get("second-model-block")) ? DjlCharLanguageModel.block(64, 256, 2) : net);
        second.load(Path.of(options.get("second-model")), "charlm");
        System.out.println("second model loaded epoch " + second.getProperty("Epoch"));
        return second;
    }

    /** A trainer from the second model, with a new configuration (a new optimizer), trains {@code second-epochs}. */
    private static void trainSecond(Model second, ArrayDataset dataset, Map<String, String> options) throws Exception {
        Optimizer optimizer = DjlCharLanguageModel.optimizer(options.getOrDefault("optimizer", "adam"), 0.002f);
        DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(optimizer);
        try (Trainer trainer = second.newTrainer(config)) {
            trainer.initialize(new Shape(BATCH, CONTEXT));
            EasyTrain.fit(trainer, Integer.parseInt(options.getOrDefault("second-epochs", "2")), dataset, null);
            System.out.println("second model done");
            if (options.containsKey("second-dump-trained")) {
                dumpTrained(trainer, second.getBlock(), Path.of(options.get("second-dump-trained")));
            }
        }
    }

    /** {@code Block.loadParameters} of {@code file}, read by the job itself (no {@code Model.load}), if one is named. */
    private static void blockLoad(Model model, String file) throws Exception {
        if (file != null) {
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(Path.of(file))))) {
                model.getBlock().loadParameters(model.getNDManager(), in);
            }
            System.out.println("block loaded " + file);
        }
    }

    /** {@code Model.load} of the newest checkpoint in {@code folder}, if one is named. */
    private static void load(Model model, String folder) throws Exception {
        if (folder != null) {
            model.load(Path.of(folder), "charlm");
            System.out.println("loaded epoch " + model.getProperty("Epoch"));
        }
    }

    /**
     * The values the trainer trains (its parameter store's arrays), in the format of
     * {@code DjlCharLanguageModel.dump}. DJL keeps the store private; this test job reads it by reflection.
     */
    private static void dumpTrained(Trainer trainer, Block net, Path file) throws IOException, ReflectiveOperationException {
        Field storeField = Trainer.class.getDeclaredField("parameterStore");
        storeField.setAccessible(true);
        ParameterStore store = (ParameterStore) storeField.get(trainer);
        Device device = trainer.getDevices()[0];
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            for (Pair<String, Parameter> p : net.getParameters()) {
                float[] values = store.getValue(p.getValue(), device, false).toFloatArray();
                out.writeUTF(p.getKey());
                out.writeInt(values.length);
                for (float v : values) {
                    out.writeFloat(v);
                }
            }
        }
    }
}
