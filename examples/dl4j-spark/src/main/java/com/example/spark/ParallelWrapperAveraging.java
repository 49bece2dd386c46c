package com.example.spark;

import java.io.File;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * A plain DL4J job on one machine (it knows nothing of octet): the network of {@link SparkParameterAveraging}
 * trained by {@link ParallelWrapper} in its averaging mode, two worker threads (by default), each a replica of the network
 * with its own updater; every {@code --averaging} minibatches DL4J averages the replicas' parameters and, as
 * by default, their updater states.
 *
 * <pre>
 * --epochs N      passes over the data (default 3)
 * --examples N    synthetic examples (default 4096)
 * --noise X       spread of each class around its centre (default 1.5)
 * --averaging N   minibatches per worker between two averaging rounds (default 4)
 * --workers N     worker threads, each with a replica of the network (default 2)
 * --save FILE     write the network with its updater state (ModelSerializer)
 * </pre>
 */
public final class ParallelWrapperAveraging {

    private ParallelWrapperAveraging() {
    }

    public static void main(String[] args) throws Exception {
        int epochs = 3;
        int examples = 4096;
        double noise = 1.5;
        int averaging = 4;
        int workers = 2;
        String save = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--epochs" -> epochs = Integer.parseInt(args[++i]);
                case "--examples" -> examples = Integer.parseInt(args[++i]);
                case "--noise" -> noise = Double.parseDouble(args[++i]);
                case "--averaging" -> averaging = Integer.parseInt(args[++i]);
                case "--workers" -> workers = Integer.parseInt(args[++i]);
                case "--save" -> save = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        MultiLayerNetwork net = new MultiLayerNetwork(SparkParameterAveraging.network(128));
        net.init();
        var minibatches = SparkParameterAveraging.minibatches(examples, noise);
        DataSet all = DataSet.merge(minibatches);
        try (ParallelWrapper wrapper = new ParallelWrapper.Builder<>(net)
                .workers(workers)
                .prefetchBuffer(0)
                .averagingFrequency(averaging)
                .trainingMode(ParallelWrapper.TrainingMode.AVERAGING)
                .averageUpdaters(true)
                .reportScoreAfterAveraging(false)
                .build()) {
            for (int epoch = 1; epoch <= epochs; epoch++) {
                wrapper.fit(new ListDataSetIterator<>(minibatches, 1));
                System.out.printf("epoch %d (full data %.6f)%n", epoch, net.score(all));
            }
        }
        INDArray state = net.getUpdater().getStateViewArray();
        System.out.printf("parameter checksum %s; updater state %,d floats%n", net.params().sumNumber(), state.length());
        if (save != null) {
            ModelSerializer.writeModel(net, new File(save), true);
            System.out.println("saved " + save);
        }
    }
}
