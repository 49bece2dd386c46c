package com.example.charlm;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.util.ModelSerializer;

/**
 * Started in a child JVM by the integration tests: fine-tuning with DL4J's {@code TransferLearning}.
 * The example's model trains {@code steps} steps, then becomes a new network whose embedding layer is
 * frozen and whose other layers train {@code tune} more steps with a fine-tuning updater at half the
 * learning rate. Plain DL4J, no octet.
 *
 * <p>Options as the example's ({@code hidden}, {@code embed}, {@code seq}, {@code batch}, {@code chars},
 * {@code every}, {@code updater}, {@code lr}, {@code seed}), and {@code steps} (20), {@code tune} (20),
 * {@code save} (the fine-tuned network, written with {@code ModelSerializer}).
 */
public final class TransferLearningJob {

    private TransferLearningJob() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].substring(2), args[i + 1]);
        }
        int hidden = Integer.parseInt(options.getOrDefault("hidden", "256"));
        int embed = Integer.parseInt(options.getOrDefault("embed", "64"));
        int seq = Integer.parseInt(options.getOrDefault("seq", "64"));
        int batch = Integer.parseInt(options.getOrDefault("batch", "32"));
        int every = Integer.parseInt(options.getOrDefault("every", "20"));
        double lr = Double.parseDouble(options.getOrDefault("lr", "0.002"));
        long seed = Long.parseLong(options.getOrDefault("seed", "42"));
        String updater = options.getOrDefault("updater", "adam");
        int[] text = CharLanguageModel.encode(CharLanguageModel.readCorpus(Integer.parseInt(options.getOrDefault("chars", "2000000"))));

        MultiLayerNetwork net = new MultiLayerNetwork(CharLanguageModel.configuration(hidden, embed, seq,
                CharLanguageModel.updater(updater, lr), seed));
        net.init();
        int steps = Integer.parseInt(options.getOrDefault("steps", "20"));
        train(net, steps, every, text, batch, seq, seed, "step");

        MultiLayerNetwork tuned = new TransferLearning.Builder(net)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(CharLanguageModel.updater(updater, lr / 2)).build())
                .setFeatureExtractor(0)
                .build();
        train(tuned, Integer.parseInt(options.getOrDefault("tune", "20")), every, text, batch, seq, seed + steps, "tune step");
        if (options.containsKey("save")) {
            ModelSerializer.writeModel(tuned, Path.of(options.get("save")).toFile(), true);
        }
    }

    private static void train(MultiLayerNetwork net, int steps, int every, int[] text, int batch, int seq, long seed, String label) {
        for (int step = 1; step <= steps; step++) {
            net.fit(CharLanguageModel.batch(text, batch, seq, new Random(seed * 1_000_003L + step)));
            if (step % every == 0) {
                System.out.printf(Locale.ROOT, "%s %d loss %.6f%n", label, step, net.score());
            }
        }
    }
}
