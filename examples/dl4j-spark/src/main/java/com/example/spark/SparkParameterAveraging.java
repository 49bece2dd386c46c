package com.example.spark;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.parameterserver.training.SharedTrainingMaster;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.parameterserver.distributed.conf.VoidConfiguration;
import org.nd4j.parameterserver.distributed.v2.enums.MeshBuildMode;
import org.nd4j.parameterserver.distributed.v2.transport.impl.EnvironmentVarPortSupplier;
import org.nd4j.parameterserver.distributed.v2.transport.impl.StaticPortSupplier;

/**
 * A plain dl4j-spark job (it knows nothing of octet): a small MultiLayerNetwork (or the same network as a
 * ComputationGraph) trained on synthetic classification data with {@link ParameterAveragingTrainingMaster},
 * with or without averaging of the updater state, or with {@link SharedTrainingMaster} (gradient sharing). It runs on {@code local[N]} (the default) or on a standalone cluster ({@code --master
 * spark://host:port}); the Spark settings of a cluster run (executor class path, memory, java options)
 * come from {@code -Dspark.*} system properties, as {@code spark-submit} would pass them.
 *
 * <pre>
 * --master URL          Spark master (default local[2])
 * --epochs N            passes over the data (default 5)
 * --examples N          synthetic examples (default 4096)
 * --hidden N            width of the two hidden layers (default 128: 21,252 parameters; 4096: 16,932,868)
 * --noise X             spread of each class around its centre (default 1.5; larger: classes overlap more)
 * --averaging N         minibatches per worker between two averaging rounds (default 4)
 * --no-updater-averaging  DL4J's saveUpdater(false): the updater state is not averaged nor kept
 * --save FILE           write the driver's network with its updater state (ModelSerializer)
 * --load FILE           start from a network saved with --save (its parameters and updater state)
 * --then-local N FILE   after the Spark fit (and --save), N more minibatches on the driver alone, saved to FILE
 * --graph               the network as a ComputationGraph (SparkComputationGraph)
 * --trainer T           paramavg (default) or shared (SharedTrainingMaster, gradient sharing)
 * </pre>
 */
public final class SparkParameterAveraging {

    static final int FEATURES = 32;
    static final int CLASSES = 4;
    static final int MINIBATCH = 16;

    private SparkParameterAveraging() {
    }

    public static void main(String[] args) throws Exception {
        String master = "local[2]";
        int epochs = 5;
        int examples = 4096;
        double noise = 1.5;
        int hidden = 128;
        int averaging = 4;
        boolean updaterAveraging = true;
        String save = null;
        String load = null;
        int localSteps = 0;
        String localSave = null;
        boolean graph = false;
        String trainer = "paramavg";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--master" -> master = args[++i];
                case "--epochs" -> epochs = Integer.parseInt(args[++i]);
                case "--examples" -> examples = Integer.parseInt(args[++i]);
                case "--noise" -> noise = Double.parseDouble(args[++i]);
                case "--hidden" -> hidden = Integer.parseInt(args[++i]);
                case "--averaging" -> averaging = Integer.parseInt(args[++i]);
                case "--no-updater-averaging" -> updaterAveraging = false;
                case "--save" -> save = args[++i];
                case "--load" -> load = args[++i];
                case "--then-local" -> {
                    localSteps = Integer.parseInt(args[++i]);
                    localSave = args[++i];
                }
                case "--graph" -> graph = true;
                case "--trainer" -> trainer = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }

        SparkConf conf = new SparkConf().setMaster(master).setAppName("octet-dl4j-spark-paramavg");
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            MultiLayerNetwork net;
            ComputationGraph cg = null;
            if (load != null) {
                net = graph ? null : ModelSerializer.restoreMultiLayerNetwork(new File(load), true);
                cg = graph ? ModelSerializer.restoreComputationGraph(new File(load), true) : null;
            } else {
                net = new MultiLayerNetwork(network(hidden));
                net.init();
                if (graph) {
                    cg = new ComputationGraph(graphNetwork(hidden));
                    cg.init();
                }
            }
            int workers = sc.defaultParallelism();
            System.out.printf("model: %,d parameters (%s), %,d synthetic examples, master %s, trainer %s, updater averaging %s%n",
                    graph ? cg.numParams() : net.numParams(), graph ? "ComputationGraph" : "MultiLayerNetwork", examples, master, trainer,
                    updaterAveraging);

            TrainingMaster<?, ?> tm = trainingMaster(trainer, master, workers, MINIBATCH, averaging, updaterAveraging);
            SparkDl4jMultiLayer sparkNet = graph ? null : new SparkDl4jMultiLayer(sc, net, tm);
            SparkComputationGraph sparkGraph = graph ? new SparkComputationGraph(sc, cg, tm) : null;

            JavaRDD<DataSet> data = sc.parallelize(minibatches(examples, noise), workers);
            DataSet all = DataSet.merge(minibatches(examples, noise));
            // One averaging round per split of workers x minibatch x averaging examples (DL4J's getSplitRDDs).
            int rounds = (examples + workers * MINIBATCH * averaging - 1) / (workers * MINIBATCH * averaging);
            long start = System.nanoTime();
            for (int epoch = 1; epoch <= epochs; epoch++) {
                long t0 = System.nanoTime();
                double score;
                double full;
                if (graph) {
                    sparkGraph.fit(data);
                    score = sparkGraph.getScore();
                    full = sparkGraph.getNetwork().score(all);
                } else {
                    sparkNet.fit(data);
                    score = sparkNet.getScore();
                    full = sparkNet.getNetwork().score(all);
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (trainer.equals("paramavg")) {
                    System.out.printf("epoch %d loss %.6f (full data %.6f) %.2f s, %d averaging rounds, %.3f s per round%n",
                            epoch, score, full, seconds, rounds, seconds / rounds);
                } else {
                    System.out.printf("epoch %d loss %.6f (full data %.6f) %.2f s%n", epoch, score, full, seconds);
                }
            }
            INDArray params = graph ? sparkGraph.getNetwork().params() : sparkNet.getNetwork().params();
            INDArray state = graph ? sparkGraph.getNetwork().getUpdater().getStateViewArray()
                    : sparkNet.getNetwork().getUpdater().getStateViewArray();
            System.out.printf("training %.2f s; parameter checksum %s; updater state %,d floats, checksum %s%n",
                    (System.nanoTime() - start) / 1e9, params.sumNumber(),
                    state == null ? 0 : state.length(), state == null ? "-" : state.sumNumber());
            if (save != null) {
                if (graph) {
                    ModelSerializer.writeModel(sparkGraph.getNetwork(), new File(save), true);
                } else {
                    ModelSerializer.writeModel(sparkNet.getNetwork(), new File(save), true);
                }
                System.out.println("saved " + save);
            }
            if (localSave != null) {
                // Training goes on in the driver's JVM, as a job does after a Spark fit (or after --load).
                List<DataSet> batches = minibatches(examples, noise);
                for (int step = 0; step < localSteps; step++) {
                    if (graph) {
                        sparkGraph.getNetwork().fit(batches.get(step % batches.size()));
                    } else {
                        sparkNet.getNetwork().fit(batches.get(step % batches.size()));
                    }
                }
                ModelSerializer.writeModel(graph ? sparkGraph.getNetwork() : sparkNet.getNetwork(), new File(localSave), true);
                System.out.println("saved locally " + localSave);
            }
        }
    }

    /**
     * Parameter averaging ({@code paramavg}) or gradient sharing ({@code shared}) for {@code workers} workers and
     * minibatches of {@code minibatch} examples; {@code averaging} and {@code updaterAveraging}: parameter averaging's.
     */
    static TrainingMaster<?, ?> trainingMaster(String trainer, String master, int workers, int minibatch, int averaging,
            boolean updaterAveraging) {
        if (trainer.equals("shared")) {
            // Each JVM's parameter server listens on the port its PortSupplier gives there (the driver's is the
            // mesh's root). On one host (cluster.sh) the JVMs need different ports: the driver and each
            // worker's executors get their own DL4J_WORKER_PORT. local[N] runs everything in one JVM: one port.
            VoidConfiguration voidConf = VoidConfiguration.builder()
                    .portSupplier(master.startsWith("local") ? new StaticPortSupplier(40123)
                            : new EnvironmentVarPortSupplier("DL4J_WORKER_PORT"))
                    .controllerAddress("127.0.0.1")
                    .meshBuildMode(MeshBuildMode.PLAIN)
                    .build();
            return new SharedTrainingMaster.Builder(voidConf, minibatch)
                    .batchSizePerWorker(minibatch)
                    .workersPerNode(1)
                    .workerPrefetchNumBatches(0)
                    .rngSeed(12345L)
                    .repartitionData(Repartition.Never)
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .build();
        }
        if (trainer.equals("paramavg")) {
            return new ParameterAveragingTrainingMaster.Builder(workers, minibatch)
                    .batchSizePerWorker(minibatch)
                    .averagingFrequency(averaging)
                    .workerPrefetchNumBatches(0)
                    .saveUpdater(updaterAveraging)
                    .repartionData(Repartition.Never)
                    .rngSeed(12345L)
                    // Direct: the RDD's DataSets go to the workers as they are. DL4J's default, Export, first writes
                    // them to files, which it refuses on a cluster whose default file system is the local one.
                    .rddTrainingApproach(RDDTrainingApproach.Direct)
                    .build();
        }
        throw new IllegalArgumentException("--trainer is paramavg or shared, not " + trainer);
    }

    static MultiLayerConfiguration network(int hidden) {
        return new NeuralNetConfiguration.Builder()
                .seed(42)
                .updater(new Adam(1e-2))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new DenseLayer.Builder().nIn(FEATURES).nOut(hidden).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(hidden).nOut(hidden).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden).nOut(CLASSES)
                        .activation(Activation.SOFTMAX).build())
                .build();
    }

    /** The same layers as {@link #network(int)}, as a ComputationGraph. */
    static ComputationGraphConfiguration graphNetwork(int hidden) {
        return new NeuralNetConfiguration.Builder()
                .seed(42)
                .updater(new Adam(1e-2))
                .weightInit(WeightInit.XAVIER)
                .graphBuilder()
                .addInputs("in")
                .addLayer("dense0", new DenseLayer.Builder().nIn(FEATURES).nOut(hidden).activation(Activation.TANH).build(), "in")
                .addLayer("dense1", new DenseLayer.Builder().nIn(hidden).nOut(hidden).activation(Activation.TANH).build(), "dense0")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(hidden).nOut(CLASSES)
                        .activation(Activation.SOFTMAX).build(), "dense1")
                .setOutputs("out")
                .build();
    }

    /** Synthetic, fixed data: each class a Gaussian cloud around its own random centre, in minibatches. */
    static List<DataSet> minibatches(int examples, double noise) {
        Random random = new Random(7);
        double[][] centres = new double[CLASSES][FEATURES];
        for (double[] c : centres) {
            for (int f = 0; f < FEATURES; f++) {
                c[f] = random.nextGaussian();
            }
        }
        List<DataSet> out = new ArrayList<>();
        for (int start = 0; start < examples; start += MINIBATCH) {
            int n = Math.min(MINIBATCH, examples - start);
            float[][] x = new float[n][FEATURES];
            float[][] y = new float[n][CLASSES];
            for (int i = 0; i < n; i++) {
                int label = random.nextInt(CLASSES);
                for (int f = 0; f < FEATURES; f++) {
                    x[i][f] = (float) (centres[label][f] + noise * random.nextGaussian());
                }
                y[i][label] = 1f;
            }
            out.add(new DataSet(Nd4j.create(x), Nd4j.create(y)));
        }
        return out;
    }
}
