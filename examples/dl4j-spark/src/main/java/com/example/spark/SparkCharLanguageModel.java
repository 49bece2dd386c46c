package com.example.spark;

import com.example.charlm.CharLanguageModel;
import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The char-LM of {@code examples/dl4j-charlm} (an embedding, an LSTM and a softmax over the next character,
 * on Europarl text) trained with dl4j-spark: a plain job, it knows nothing of octet. Each epoch trains on
 * {@code --batches} fixed random windows of the text, split among the workers; the loss is the mean over
 * 8 fixed windows of text that follows what it trains on.
 *
 * <pre>
 * --master URL      Spark master (default local[2])
 * --epochs N        passes over the minibatches (default 2)
 * --batches N       minibatches of 32 windows of 64 characters an epoch (default 64)
 * --hidden N        LSTM width (default 256: 359,520 parameters; 512: 1,237,088; 1024: 4,565,088)
 * --averaging N     minibatches per worker between two averaging rounds (default 4)
 * --trainer T       paramavg (default) or shared
 * --save FILE / --load FILE   the driver's network with its updater state (ModelSerializer)
 * </pre>
 */
public final class SparkCharLanguageModel {

    private static final int BATCH = 32;
    private static final int SEQ = 64;
    private static final int TRAINED_CHARS = 2_000_000;

    private SparkCharLanguageModel() {
    }

    public static void main(String[] args) throws Exception {
        String master = "local[2]";
        int epochs = 2;
        int batches = 64;
        int hidden = 256;
        int averaging = 4;
        String trainer = "paramavg";
        String save = null;
        String load = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--master" -> master = args[++i];
                case "--epochs" -> epochs = Integer.parseInt(args[++i]);
                case "--batches" -> batches = Integer.parseInt(args[++i]);
                case "--hidden" -> hidden = Integer.parseInt(args[++i]);
                case "--averaging" -> averaging = Integer.parseInt(args[++i]);
                case "--trainer" -> trainer = args[++i];
                case "--save" -> save = args[++i];
                case "--load" -> load = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        int[] corpus = CharLanguageModel.encodedCorpus(TRAINED_CHARS + 200_000);
        int[] text = Arrays.copyOf(corpus, TRAINED_CHARS);
        int[] heldout = Arrays.copyOfRange(corpus, TRAINED_CHARS, corpus.length);
        List<DataSet> minibatches = new ArrayList<>();
        Random windows = new Random(42);
        for (int b = 0; b < batches; b++) {
            minibatches.add(CharLanguageModel.batch(text, BATCH, SEQ, windows));
        }
        List<DataSet> test = new ArrayList<>();
        Random testWindows = new Random(7);
        for (int b = 0; b < 8; b++) {
            test.add(CharLanguageModel.batch(heldout, BATCH, SEQ, testWindows));
        }

        SparkConf conf = new SparkConf().setMaster(master).setAppName("octet-dl4j-spark-charlm");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            MultiLayerNetwork net;
            if (load != null) {
                net = ModelSerializer.restoreMultiLayerNetwork(new File(load), true);
            } else {
                net = new MultiLayerNetwork(CharLanguageModel.configuration(hidden, 64, SEQ, new Adam(2e-3), 42));
                net.init();
            }
            int workers = sc.defaultParallelism();
            System.out.printf("model: %,d parameters, %,d minibatches of %d x %d characters an epoch, master %s, trainer %s%n",
                    net.numParams(), batches, BATCH, SEQ, master, trainer);
            SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, net,
                    SparkParameterAveraging.trainingMaster(trainer, master, workers, BATCH, averaging, true));
            JavaRDD<DataSet> data = sc.parallelize(minibatches, workers);
            int rounds = (batches + workers * averaging - 1) / (workers * averaging);
            long start = System.nanoTime();
            for (int epoch = 1; epoch <= epochs; epoch++) {
                long t0 = System.nanoTime();
                sparkNet.fit(data);
                double seconds = (System.nanoTime() - t0) / 1e9;
                double loss = 0;
                for (DataSet d : test) {
                    loss += sparkNet.getNetwork().score(d) / test.size();
                }
                System.out.printf("epoch %d loss (held-out %.6f) %.2f s, %d averaging rounds, %.3f s per round%n",
                        epoch, loss, seconds, rounds, seconds / rounds);
            }
            System.out.printf("training %.2f s; parameter checksum %s; updater state %,d floats%n",
                    (System.nanoTime() - start) / 1e9, sparkNet.getNetwork().params().sumNumber(),
                    sparkNet.getNetwork().getUpdater().getStateViewArray().length());
            if (save != null) {
                ModelSerializer.writeModel(sparkNet.getNetwork(), new File(save), true);
                System.out.println("saved " + save);
            }
        }
    }
}
