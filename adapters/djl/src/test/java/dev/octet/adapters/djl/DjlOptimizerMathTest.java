package dev.octet.adapters.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.octet.kernels.Float32State;
import dev.octet.kernels.FusedUpdate;
import dev.octet.kernels.KernelPool;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import dev.octet.kernels.rules.MxRules;
import dev.octet.policy.OptimizerOverrides;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * DJL's optimizers as octet reads them (real DJL optimizer objects, their private hyperparameters) and
 * the rules it makes, against a step replayed in double precision from DJL's formulas
 * (docs/framework-optimizer-math.md, section B), with float32 state, over a few steps with changing
 * gradients that the clip, rescale and weight decay all act on.
 */
class DjlOptimizerMathTest {

    private static final int N = 1000;
    private static final int STEPS = 4;

    /** A replay of one DJL step in double: updates {@code w} and {@code s} (the statistics) in place. */
    interface Replay {
        void step(double[] w, double[] g, double[][] s, int t);
    }

    private static void check(Optimizer optimizer, int statistics, Replay replay) {
        DjlOptimizerMath math = DjlOptimizerMath.of(optimizer);
        Random random = new Random(11);
        float[] w = new float[N];
        double[] wd = new double[N];
        for (int i = 0; i < N; i++) {
            w[i] = (float) random.nextGaussian();
            wd[i] = w[i];
        }
        Float32State state = Float32State.allocate(N, math.statistics());
        double[][] s = new double[statistics][N];
        for (int t = 1; t <= STEPS; t++) {
            float[] g = new float[N];
            double[] gd = new double[N];
            for (int i = 0; i < N; i++) {
                g[i] = (float) (2 * random.nextGaussian());
                gd[i] = g[i];
            }
            UpdateRule rule = math.rule("p", t, OptimizerOverrides.NONE);
            FusedUpdate.apply(FloatBuffer.wrap(w), FloatBuffer.wrap(g), state, rule, StepOptions.DEFAULT, KernelPool.ofThreads(1));
            replay.step(wd, gd, s, t);
            double largest = 0;
            double difference = 0;
            for (int i = 0; i < N; i++) {
                largest = Math.max(largest, Math.abs(wd[i]));
                difference = Math.max(difference, Math.abs(wd[i] - w[i]));
            }
            assertTrue(difference <= 2e-6 * largest, optimizer.getClass().getSimpleName() + " step " + t + ": " + difference);
        }
    }

    private static double clipOneSided(double g, double clip) {
        return clip >= 0 ? Math.min(g, clip) : g;
    }

    private static double clipBoth(double g, double clip) {
        return clip >= 0 ? Math.max(-clip, Math.min(clip, g)) : g;
    }

    @Test
    void adamWithRescaleOneSidedClipAndCoupledDecay() {
        Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).optBeta1(0.8f).optBeta2(0.99f)
                .optEpsilon(1e-6f).setRescaleGrad(0.5f).optClipGrad(0.7f).optWeightDecays(0.1f).build();
        check(adam, 2, (w, g, s, t) -> {
            double lambda = (float) (0.01f * Math.sqrt(1 - Math.pow(0.99f, t)) / (1 - Math.pow(0.8f, t)));
            for (int i = 0; i < N; i++) {
                double x = clipOneSided(g[i] * 0.5, 0.7) + 0.1f * w[i];
                s[0][i] = 0.8f * s[0][i] + (1 - 0.8f) * x;
                s[1][i] = 0.99f * s[1][i] + (1 - 0.99f) * x * x;
                w[i] -= s[0][i] * lambda / (Math.sqrt(s[1][i]) + 1e-6f);
            }
        });
    }

    @Test
    void adamWDecaysTheWeightWithTheRawLearningRateFirst() {
        Optimizer adamW = Optimizer.adamW().optLearningRateTracker(Tracker.fixed(0.01f)).optWeightDecays(0.5f).build();
        check(adamW, 2, (w, g, s, t) -> {
            double lambda = (float) (0.01f * Math.sqrt(1 - Math.pow(0.999f, t)) / (1 - Math.pow(0.9f, t)));
            for (int i = 0; i < N; i++) {
                w[i] -= w[i] * 0.01f * 0.5f;
                s[0][i] = 0.9f * s[0][i] + (1 - 0.9f) * g[i];
                s[1][i] = 0.999f * s[1][i] + (1 - 0.999f) * g[i] * g[i];
                w[i] -= s[0][i] * lambda / (Math.sqrt(s[1][i]) + 1e-8f);
            }
        });
    }

    @Test
    void sgdKeepsTheLearningRateInsideTheMomentum() {
        Optimizer sgd = Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.05f)).optMomentum(0.9f)
                .optClipGrad(1f).optWeightDecays(0.01f).build();
        check(sgd, 1, (w, g, s, t) -> {
            for (int i = 0; i < N; i++) {
                s[0][i] = 0.9f * s[0][i] + (clipOneSided(g[i], 1) + 0.01f * w[i]) * 0.05f;
                w[i] -= s[0][i];
            }
        });
    }

    @Test
    void nagClipsBothSides() {
        Optimizer nag = Optimizer.nag().setLearningRateTracker(Tracker.fixed(0.05f)).setMomentum(0.9f).optClipGrad(1f)
                .optWeightDecays(0.01f).build();
        check(nag, 1, (w, g, s, t) -> {
            for (int i = 0; i < N; i++) {
                double x = clipBoth(g[i], 1) + 0.01f * w[i];
                s[0][i] = 0.9f * s[0][i] - 0.05f * x;
                w[i] += 0.9f * s[0][i] - 0.05f * x;
            }
        });
    }

    @Test
    void rmsPropPutsEpsilonInsideTheRootAndClipsAfterTheDecay() {
        Optimizer rms = Optimizer.rmsprop().optLearningRateTracker(Tracker.fixed(0.01f)).optRho(0.8f).optEpsilon(1e-3f)
                .optClipGrad(1.5f).optWeightDecays(0.2f).build();
        check(rms, 1, (w, g, s, t) -> {
            for (int i = 0; i < N; i++) {
                double x = clipBoth(g[i] + 0.2f * w[i], 1.5);
                s[0][i] = (1 - 0.8f) * x * x + 0.8f * s[0][i];
                w[i] -= 0.01f * x / Math.sqrt(s[0][i] + 1e-3f);
            }
        });
    }

    @Test
    void centeredRmsPropKeepsThreeStatistics() {
        Optimizer rms = Optimizer.rmsprop().optLearningRateTracker(Tracker.fixed(0.01f)).optCentered(true).build();
        check(rms, 3, (w, g, s, t) -> {
            for (int i = 0; i < N; i++) {
                double x = g[i];
                s[0][i] = (1 - 0.9f) * x * x + 0.9f * s[0][i];
                s[1][i] = (1 - 0.9f) * x + 0.9f * s[1][i];
                s[2][i] = 0.9f * s[2][i] - 0.01f * x / Math.sqrt(s[0][i] - s[1][i] * s[1][i] + 1e-8f);
                w[i] += s[2][i];
            }
        });
    }

    @Test
    void adagradAccumulatesSquares() {
        Optimizer adagrad = Optimizer.adagrad().optLearningRateTracker(Tracker.fixed(0.1f)).optEpsilon(1e-4f).setRescaleGrad(2f)
                .build();
        check(adagrad, 1, (w, g, s, t) -> {
            for (int i = 0; i < N; i++) {
                double x = g[i] * 2;
                s[0][i] += x * x;
                w[i] -= x / Math.sqrt(s[0][i] + 1e-4f) * 0.1f;
            }
        });
    }

    @Test
    void adadeltaHasNoLearningRateAndClipsOnlyAboveZero() {
        Optimizer adadelta = Optimizer.adadelta().optRho(0.9f).optEpsilon(1e-6f).optClipGrad(0f).build();
        check(adadelta, 2, (w, g, s, t) -> {
            for (int i = 0; i < N; i++) {
                double x = g[i]; // clipGrad 0: no clipping for Adadelta
                s[0][i] = 0.9f * s[0][i] + (1 - 0.9f) * x * x;
                double dw = Math.sqrt(s[1][i] + 1e-6f) / Math.sqrt(s[0][i] + 1e-6f) * x;
                s[1][i] = 0.9f * s[1][i] + (1 - 0.9f) * dw * dw;
                w[i] -= dw;
            }
        });
        assertTrue(!DjlOptimizerMath.of(adadelta).countsUpdates(), "DJL's Adadelta never calls updateCount");
    }

    @Test
    void plainSgdAndUnknownOptimizersAreLeftToDjl() {
        assertNull(DjlOptimizerMath.of(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.1f)).build()));
        assertNull(DjlOptimizerMath.of(new Object()));
        assertEquals("RmsProp (centered)", DjlOptimizerMath.of(Optimizer.rmsprop().optCentered(true).build()).name());
        assertEquals(3, DjlOptimizerMath.of(Optimizer.rmsprop().optCentered(true).build()).statistics().length);
    }

    /** A policy override the optimizer's formula has no place for is named (the caller warns), never silently lost. */
    @Test
    void overridesWithoutAPlaceInTheFormulaAreNamed() {
        OptimizerOverrides all = new OptimizerOverrides(0.1, 0.9, 0.99, 1e-6, 0.01, 0.5);
        assertEquals(List.of("momentum"), DjlOptimizerMath.of(Optimizer.adam().build()).withoutPlaceFor(all));
        assertEquals(List.of("beta1", "beta2", "epsilon"),
                DjlOptimizerMath.of(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.1f)).optMomentum(0.9f).build())
                        .withoutPlaceFor(all));
        assertEquals(List.of("beta1", "beta2", "momentum"), DjlOptimizerMath.of(Optimizer.rmsprop().build()).withoutPlaceFor(all));
        assertEquals(List.of("beta1", "beta2"), DjlOptimizerMath.of(Optimizer.rmsprop().optCentered(true).build()).withoutPlaceFor(all));
        assertEquals(List.of("learningRate", "beta1", "beta2", "momentum"),
                DjlOptimizerMath.of(Optimizer.adadelta().build()).withoutPlaceFor(all));
        assertEquals(List.of(), DjlOptimizerMath.of(Optimizer.adam().build()).withoutPlaceFor(OptimizerOverrides.NONE));
    }

    /** Where DJL's own optimizer refuses the step (NaN or infinite learning rate), octet leaves the step to DJL. */
    @Test
    void aStepDjlRefusesIsLeftToDjl() {
        OptimizerOverrides none = OptimizerOverrides.NONE;
        assertNull(DjlOptimizerMath.of(Optimizer.adam().optLearningRateTracker(Tracker.fixed(Float.NaN)).build()).rule("p", 1, none));
        assertNull(DjlOptimizerMath.of(Optimizer.adamW().optWeightDecays(Float.POSITIVE_INFINITY).build()).rule("p", 1, none));
        assertNull(DjlOptimizerMath.of(Optimizer.rmsprop().optLearningRateTracker(Tracker.fixed(Float.NaN)).build()).rule("p", 1, none));
        assertNull(DjlOptimizerMath.of(Optimizer.adagrad().optWeightDecays(Float.NaN).build()).rule("p", 1, none));
        assertTrue(DjlOptimizerMath.of(Optimizer.adam().build()).rule("p", 1, none) instanceof MxRules.Adam);
        assertEquals(2, DjlOptimizerMath.of(Optimizer.adam().optLearningRateTracker(Tracker.fixed(Float.NaN)).build()).statistics().length);
    }

    @Test
    void policyOverridesReplaceTheJobsHyperparameters() {
        DjlOptimizerMath math = DjlOptimizerMath.of(Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build());
        OptimizerOverrides o = new OptimizerOverrides(1e-4, 0.5, null, null, null, null);
        MxRules.Adam rule = (MxRules.Adam) math.rule("p", 1, o);
        assertEquals(0.5f, rule.beta1());
        assertEquals(0.999f, rule.beta2());
        assertEquals((float) (1e-4f * Math.sqrt(1 - Math.pow(0.999f, 1)) / (1 - Math.pow(0.5f, 1))), rule.lambda());
    }
}
