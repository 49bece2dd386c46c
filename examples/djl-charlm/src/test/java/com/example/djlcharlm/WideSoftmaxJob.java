package com.example.djlcharlm;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Started in a child JVM by the integration tests: a classifier with a wide softmax output layer,
 * {@code in} features (a tanh layer over 64 random inputs) to {@code classes} classes whose labels follow
 * a Zipf law, so that most classes are rare; Adam; a training loop written as DJL's documentation shows
 * it (gradient collector, backward, {@code trainer.step()}). Plain DJL, no octet.
 *
 * <p>Options: {@code in} (1024), {@code classes} (16385), {@code batch} (32), {@code steps} (20),
 * {@code lr} (1e-3), {@code seed} (7); an injected outlier: before the update of step
 * {@code inject-step}, a fraction {@code inject-fraction} of every gradient's elements (chosen at random)
 * becomes {@code +-inject-value}.
 *
 * <p>Prints each step's loss and largest parameter change ({@code step N loss L largest-change C}), then
 * {@code max |p - p0|} and {@code max |p|}.
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
        float lr = Float.parseFloat(options.getOrDefault("lr", "1e-3"));
        long seed = Long.parseLong(options.getOrDefault("seed", "7"));
        int injectStep = Integer.parseInt(options.getOrDefault("inject-step", "0"));
        float injectValue = Float.parseFloat(options.getOrDefault("inject-value", "0"));
        double injectFraction = Double.parseDouble(options.getOrDefault("inject-fraction", "0"));
        Engine.getInstance().setRandomSeed((int) seed);
        double[] zipf = zipfCumulative(classes, 1.1);
        try (Model model = Model.newInstance("wide-softmax"); NDManager data = NDManager.newBaseManager()) {
            SequentialBlock net = new SequentialBlock()
                    .add(Linear.builder().setUnits(in).build())
                    .add(Activation::tanh)
                    .add(Linear.builder().setUnits(classes).build());
            model.setBlock(net);
            Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(lr)).build();
            try (Trainer trainer = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss()).optOptimizer(adam))) {
                trainer.initialize(new Shape(batch, 64));
                List<NDArray> params = new ArrayList<>();
                for (Pair<String, Parameter> p : net.getParameters()) {
                    params.add(p.getValue().getArray());
                }
                List<float[]> start = snapshot(params);
                List<float[]> previous = start;
                for (int step = 1; step <= steps; step++) {
                    Random random = new Random(seed * 1_000_003L + step);
                    float[] x = new float[batch * 64];
                    float[] y = new float[batch];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) random.nextGaussian();
                    }
                    for (int b = 0; b < batch; b++) {
                        y[b] = label(random.nextDouble(), zipf);
                    }
                    float loss;
                    try (NDManager stepData = data.newSubManager()) {
                        NDArray features = stepData.create(x, new Shape(batch, 64));
                        NDArray labels = stepData.create(y, new Shape(batch));
                        try (GradientCollector collector = trainer.newGradientCollector()) {
                            NDArray predictions = trainer.forward(new NDList(features)).singletonOrThrow();
                            NDArray lossValue = trainer.getLoss().evaluate(new NDList(labels), new NDList(predictions));
                            collector.backward(lossValue);
                            loss = lossValue.getFloat();
                        }
                    }
                    if (step == injectStep && injectFraction > 0) {
                        inject(params, new Random(seed + 1), injectValue, injectFraction);
                    }
                    trainer.step();
                    List<float[]> now = snapshot(params);
                    System.out.printf(Locale.ROOT, "step %d loss %.6f largest-change %.6g%n", step, loss, largest(now, previous, false));
                    previous = now;
                }
                System.out.printf(Locale.ROOT, "max |p - p0| %.6g%n", largest(previous, start, false));
                System.out.printf(Locale.ROOT, "max |p| %.6g%n", largest(previous, null, true));
            }
        }
    }

    private static void inject(List<NDArray> params, Random random, float value, double fraction) {
        for (NDArray p : params) {
            NDArray gradient = p.getGradient();
            float[] g = gradient.toFloatArray();
            for (int i = 0; i < g.length; i++) {
                if (random.nextDouble() < fraction) {
                    g[i] = random.nextBoolean() ? value : -value;
                }
            }
            gradient.set(g);
        }
    }

    private static List<float[]> snapshot(List<NDArray> params) {
        List<float[]> out = new ArrayList<>();
        for (NDArray p : params) {
            out.add(p.toFloatArray());
        }
        return out;
    }

    /** The largest |a - b| over all parameters ({@code magnitude}: the largest |a|). */
    private static double largest(List<float[]> a, List<float[]> b, boolean magnitude) {
        double out = 0;
        for (int k = 0; k < a.size(); k++) {
            float[] x = a.get(k);
            for (int i = 0; i < x.length; i++) {
                out = Math.max(out, Math.abs(magnitude ? x[i] : (double) x[i] - b.get(k)[i]));
            }
        }
        return out;
    }

    private static float label(double u, double[] cumulative) {
        int k = 0;
        while (k < cumulative.length - 1 && cumulative[k] < u) {
            k++;
        }
        return k;
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
