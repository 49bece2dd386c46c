package com.example.charlm;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Started in a child JVM by the integration tests: a classifier with a wide softmax output layer,
 * {@code in} features (a tanh hidden layer over random inputs) to {@code classes} classes whose labels
 * follow a Zipf law, so that most classes are rare. Adam. Plain DL4J, no octet.
 *
 * <p>Options: {@code in} (1024), {@code classes} (16385), {@code batch} (32), {@code steps} (20),
 * {@code lr} (1e-3), {@code seed} (7), {@code dtype} (the network's data type, FLOAT), {@code weight-decay} (0:
 * none; DL4J's {@code WeightDecay}, added to the update after the updater), {@code l2} (0: none; added to the
 * gradient before the updater), {@code clip} (0: none; DL4J's element-wise gradient clipping, before the
 * updater), {@code save} (the
 * network, with its updater); and an injected
 * outlier: at step {@code inject-step}, a fraction {@code inject-fraction} of the gradient's elements
 * (chosen at random) is set to {@code +-inject-value} as the updater sees it (DL4J divides the gradient
 * by the batch size first, so the job writes value times batch size).
 *
 * <p>Prints each step's loss and largest parameter change ({@code step N loss L largest-change C}), then
 * {@code max |p - p0|}, {@code max |p|} and how many parameters moved more than 0.02.
 */
public final class WideSoftmaxJob {

    private WideSoftmaxJob() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].substring(2), args[i + 1]);
        }
        int in = Integer.parseInt(options.getOrDefault("in", "1024"));
        int classes = Integer.parseInt(options.getOrDefault("classes", "16385"));
        int batch = Integer.parseInt(options.getOrDefault("batch", "32"));
        int steps = Integer.parseInt(options.getOrDefault("steps", "20"));
        double lr = Double.parseDouble(options.getOrDefault("lr", "1e-3"));
        long seed = Long.parseLong(options.getOrDefault("seed", "7"));
        int injectStep = Integer.parseInt(options.getOrDefault("inject-step", "0"));
        double injectValue = Double.parseDouble(options.getOrDefault("inject-value", "0"));
        double injectFraction = Double.parseDouble(options.getOrDefault("inject-fraction", "0"));

        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.valueOf(options.getOrDefault("dtype", "FLOAT")))
                .updater(new Adam(lr))
                .weightDecay(Double.parseDouble(options.getOrDefault("weight-decay", "0")))
                .l2(Double.parseDouble(options.getOrDefault("l2", "0")))
                .gradientNormalization(options.containsKey("clip") ? GradientNormalization.ClipElementWiseAbsoluteValue
                        : GradientNormalization.None)
                .gradientNormalizationThreshold(Double.parseDouble(options.getOrDefault("clip", "1")))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new DenseLayer.Builder().nIn(64).nOut(in).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(in).nOut(classes)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        int[] step = {0};
        net.setListeners(new BaseTrainingListener() {
            @Override
            public void onGradientCalculation(Model model) {
                if (step[0] == injectStep && injectFraction > 0) {
                    INDArray gradient = model.gradient().gradient();
                    Random random = new Random(seed + 1);
                    long n = gradient.length();
                    for (long i = 0; i < n; i++) {
                        if (random.nextDouble() < injectFraction) {
                            gradient.putScalar(i, (random.nextBoolean() ? 1 : -1) * injectValue * batch);
                        }
                    }
                }
            }
        });

        double[] zipf = zipfCumulative(classes, 1.1);
        INDArray p0 = net.params().dup();
        INDArray previous = p0.dup();
        for (step[0] = 1; step[0] <= steps; step[0]++) {
            net.fit(batch(new Random(seed * 1_000_003L + step[0]), batch, classes, zipf));
            INDArray now = net.params();
            double change = previous.sub(now).amaxNumber().doubleValue();
            previous.assign(now);
            System.out.printf(Locale.ROOT, "step %d loss %.6f largest-change %.6g%n", step[0], net.score(), change);
        }
        INDArray moved = net.params().sub(p0);
        long at = Nd4j.argMax(Transforms.abs(moved)).getLong(0);
        System.out.printf(Locale.ROOT, "max |p - p0| %.6g at %d%n", moved.amaxNumber().doubleValue(), at);
        System.out.printf(Locale.ROOT, "max |p| %.6g%n", net.params().amaxNumber().doubleValue());
        System.out.printf(Locale.ROOT, "moved more than 0.02: %d%n",
                Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition(
                        moved, org.nd4j.linalg.indexing.conditions.Conditions.absGreaterThan(0.02))).getInt(0));
        if (options.containsKey("save")) {
            ModelSerializer.writeModel(net, Path.of(options.get("save")).toFile(), true);
        }
    }

    /** Random inputs, labels drawn from the Zipf law. */
    private static DataSet batch(Random random, int batch, int classes, double[] zipfCumulative) {
        INDArray features = Nd4j.create(batch, 64);
        INDArray labels = Nd4j.zeros(batch, classes);
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < 64; i++) {
                features.putScalar(b, i, random.nextGaussian());
            }
            double u = random.nextDouble();
            int label = 0;
            while (label < classes - 1 && zipfCumulative[label] < u) {
                label++;
            }
            labels.putScalar(b, label, 1.0);
        }
        return new DataSet(features, labels);
    }

    private static double[] zipfCumulative(int classes, double exponent) {
        double[] c = new double[classes];
        double sum = 0;
        for (int k = 0; k < classes; k++) {
            sum += 1 / Math.pow(k + 1, exponent);
            c[k] = sum;
        }
        for (int k = 0; k < classes; k++) {
            c[k] /= sum;
        }
        return c;
    }
}
