package dev.octet.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.kernels.rules.AdaBeliefRule;
import dev.octet.kernels.rules.AdaDeltaRule;
import dev.octet.kernels.rules.AdaMaxRule;
import dev.octet.kernels.rules.AdamRule;
import dev.octet.kernels.rules.AmsGradRule;
import dev.octet.kernels.rules.NadamRule;
import dev.octet.kernels.rules.ReferenceOptimizers;
import dev.octet.kernels.rules.SquaredAverageRule;
import java.nio.FloatBuffer;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * No 8-bit step goes further than the exact rule could (StatisticFloor, UpdateRule#divides): the
 * bounds themselves, checked on exact arithmetic; then every rule's 8-bit steps, element by element and
 * step by step, on gradients built to break 8-bit state (twelve decades within a block, outliers of 1e3
 * and 1e20, a gradient whose square overflows, consistent signs that sit at the bound).
 */
class StepBoundTest {

    private static final int N = 64 * 256;
    private static final int STEPS = 60;

    /** {@code sum_{j < n} r^j}, added term by term (independent of StatisticFloor's closed form). */
    private static double sum(double r, int n) {
        double s = 0;
        double term = 1;
        for (int j = 0; j < n; j++) {
            s += term;
            term *= r;
        }
        return s;
    }

    /** Adam's {@code sqrt(C_t)}: the largest {@code |m_t| / sqrt(v_t)} exact arithmetic allows. */
    private static double adamRatio(double b1, double b2, int t) {
        return Math.sqrt((1 - b1) * (1 - b1) / (1 - b2) * sum(b1 * b1 / b2, t));
    }

    @Test
    void exactMomentsObeyTheBoundsAndTheBoundsAreTight() {
        Random random = new Random(3);
        double[][] betas = {{0.9, 0.999}, {0.9, 0.99}, {0.5, 0.9}, {0.99, 0.999}, {0.95, 0.9}, {0, 0.999}};
        for (double[] b : betas) {
            double b1 = b[0];
            double b2 = b[1];
            for (int history = 0; history < 300; history++) {
                // Random magnitudes over ten decades; every third history grows as (b2 / b1)^k, Cauchy-Schwarz's
                // case of equality for Adam, so that the bound is reached.
                double m = 0;
                double v = 0;
                double u = 0;
                boolean growing = history % 3 == 0 && b1 > 0;
                for (int t = 1; t <= 80; t++) {
                    double g = growing ? Math.pow(b2 / Math.max(b1, 1e-9), t) * 1e-20
                            : Math.pow(10, -10 * random.nextDouble()) * (random.nextBoolean() ? 1 : -1);
                    m = b1 * m + (1 - b1) * g;
                    v = b2 * v + (1 - b2) * g * g;
                    u = Math.max(b2 * u, Math.abs(g));
                    double c = adamRatio(b1, b2, t);
                    assertTrue(m * m <= c * c * v * (1 + 1e-9), "Adam bound at t " + t + ", betas " + b1 + " " + b2);
                    if (growing && b1 * b1 < b2 && b1 > 0) {
                        assertEquals(c, Math.abs(m) / Math.sqrt(v), c * 1e-6, "Adam's bound is reached");
                    }
                    double adaMax = (1 - b1) * sum(b1 / b2, t);
                    assertTrue(Math.abs(m) <= adaMax * u * (1 + 1e-9), "AdaMax bound at t " + t);
                }
            }
            // StatisticFloor's coefficient before step t + 1 is 1 / sqrt(C_t).
            for (int t = 1; t < 100; t++) {
                float k = StatisticFloor.adam(b1, b2, t + 1).coefficient();
                assertEquals(1 / adamRatio(b1, b2, t), k, 1e-6 / adamRatio(b1, b2, t), "coefficient at " + t);
                assertEquals(1 / ((1 - b1) * sum(b1 / b2, t)), StatisticFloor.adaMax(b1, b2, t + 1).coefficient(),
                        1e-5 / ((1 - b1) * sum(b1 / b2, t)));
            }
        }
        assertEquals(1e-8 * sum(0.999, 9), StatisticFloor.adaBelief(0.999, 1e-8, 10).coefficient(), 1e-14);
        // A state of unknown age takes the limit; no bound where the exact rule has none.
        assertEquals(1 / adamRatio(0.9, 0.999, 1_000_000), StatisticFloor.adam(0.9, 0.999, 0).coefficient(), 1e-7);
        assertEquals(StatisticFloor.NONE, StatisticFloor.adam(0.99, 0.9, 0));
        assertEquals(StatisticFloor.NONE, StatisticFloor.adam(0.9, 1.0, 5));
        assertEquals(StatisticFloor.NONE, StatisticFloor.adaBelief(0.999, 1e-8, 1));
    }

    /** One rule under test: its rule at step t and the largest step the exact rule allows then. */
    private record Case(String name, IntFunction<UpdateRule> rule, Bound bound, boolean tight) {
        Case(String name, IntFunction<UpdateRule> rule, Bound bound) {
            this(name, rule, bound, true);
        }
    }

    @FunctionalInterface
    private interface Bound {
        /** The largest |step| of an element at step t; {@code before} is the decoded state before it. */
        double at(int t, int i, float[][] before, double largestGradient);
    }

    private static Case[] cases() {
        float lr = 1e-3f;
        double b1 = 0.9;
        double b2 = 0.999;
        return new Case[] {
            new Case("reference Adam", t -> ReferenceOptimizers.adam(lr, 0.9f, 0.999f, 1e-8f, 0f, t),
                    (t, i, s, gmax) -> lr * Math.sqrt(1 - Math.pow(0.999f, t)) / (1 - Math.pow(0.9f, t)) * adamRatio(b1, b2, t)),
            new Case("DL4J Adam", t -> new AdamRule(0.9f, 0.999f, 1e-8f, adamStep(lr, t), 1f, 0f,
                    StatisticFloor.adam(b1, b2, t), true),
                    (t, i, s, gmax) -> adamStep(lr, t) * adamRatio(b1, b2, t)),
            new Case("Nadam", t -> new NadamRule(0.9f, 0.999f, 1e-8f, lr, (float) (1 - Math.pow(0.9f, t)),
                    StatisticFloor.adam(b1, b2, t)),
                    (t, i, s, gmax) -> lr / (1 - Math.pow(0.9f, t)) * (b1 * adamRatio(b1, b2, t) + (1 - b1) / Math.sqrt(1 - b2))),
            new Case("AMSGrad", t -> new AmsGradRule(0.9f, 0.999f, 1e-8f, adamStep(lr, t), StatisticFloor.adam(b1, b2, t)),
                    (t, i, s, gmax) -> adamStep(lr, t) * adamRatio(b1, b2, t)),
            new Case("AdaMax", t -> new AdaMaxRule(0.9f, 0.999f, (float) (lr / (1 - Math.pow(0.9f, t))),
                    StatisticFloor.adaMax(b1, b2, t)),
                    (t, i, s, gmax) -> lr / (1 - Math.pow(0.9f, t)) * (1 - b1) * sum(b1 / b2, t)),
            // |m| <= (1 - b1^t) max|g| (8-bit too: a block's absmax is never above what the rule made) and
            // s >= eps (1 + b2 + ... + b2^(t-1)).
            new Case("AdaBelief", t -> new AdaBeliefRule(0.9f, 0.999f, 1e-14f, adamStep(lr, t),
                    StatisticFloor.adaBelief(b2, 1e-14, t)),
                    (t, i, s, gmax) -> adamStep(lr, t) * (1 - Math.pow(b1, t)) * gmax / Math.sqrt(1e-14 * sum(b2, t)),
                    false),
            new Case("RmsProp", t -> SquaredAverageRule.rmsProp(lr, 0.95f, 1e-8f, 0f, false),
                    (t, i, s, gmax) -> lr / Math.sqrt(1 - 0.95f)),
            new Case("Adagrad", t -> SquaredAverageRule.adagrad(lr, 1e-8f, 0f, false), (t, i, s, gmax) -> lr),
            // |dx| = |g| sqrt(d + eps) / sqrt(s + eps) with s >= (1 - rho) g^2: at most sqrt((d + eps) / (1 - rho)).
            new Case("AdaDelta", t -> new AdaDeltaRule(0.95f, 1e-6f),
                    (t, i, s, gmax) -> Math.sqrt((s[1][i] + 1e-6) / (1 - 0.95f))),
        };
    }

    private static float adamStep(float lr, int t) {
        return (float) (lr * Math.sqrt(1 - Math.pow(0.999f, t)) / (1 - Math.pow(0.9f, t)));
    }

    /**
     * Gradients built to break 8-bit state. Per element a fixed magnitude class: most elements spread
     * over twelve decades below their block's largest; some keep one sign (they sit at Adam's bound);
     * one block in eight holds one element of magnitude 1. Step 20: 1e3 in 0.1% of the elements; step
     * 30: 1e20 in 1%; step 40: 1e30 in 0.1% (its square overflows float32).
     */
    private static float[] gradient(int t, Random random, float[] scale, boolean[] steady) {
        float[] g = new float[N];
        for (int i = 0; i < N; i++) {
            double sign = steady[i] ? 1 : random.nextBoolean() ? 1 : -1;
            g[i] = (float) (sign * scale[i] * (0.5 + random.nextDouble()));
            double u = random.nextDouble();
            if (t == 20 && u < 0.001) {
                g[i] = 1e3f;
            } else if (t == 30 && u < 0.01) {
                g[i] = -1e20f;
            } else if (t == 40 && u < 0.001) {
                g[i] = 1e30f;
            }
        }
        return g;
    }

    @Test
    void eightBitStepsNeverGoFurtherThanTheExactRuleCould() {
        for (Case c : cases()) {
            Random random = new Random(c.name().hashCode());
            float[] scale = new float[N];
            boolean[] steady = new boolean[N];
            for (int i = 0; i < N; i++) {
                scale[i] = (i % 256 == 0 && (i / 256) % 8 == 0) ? 1f : (float) Math.pow(10, -12 * random.nextDouble());
                steady[i] = random.nextInt(4) == 0;
            }
            UpdateRule first = c.rule().apply(1);
            QuantizedState state = QuantizedState.allocate(N, 256, first.statistics());
            float[] p = new float[N];
            double largestGradient = 0;
            double worstRatio = 0;
            for (int t = 1; t <= STEPS; t++) {
                float[] g = gradient(t, random, scale, steady);
                for (float x : g) {
                    largestGradient = Double.isFinite(x) && x * x < Float.MAX_VALUE
                            ? Math.max(largestGradient, Math.abs(x)) : largestGradient;
                }
                float[][] before = new float[first.statistics().length][N];
                for (int k = 0; k < before.length; k++) {
                    state.decodeInto(k, before[k]);
                }
                float[] old = p.clone();
                FusedUpdate.apply(FloatBuffer.wrap(p), FloatBuffer.wrap(g), state, c.rule().apply(t));
                for (int i = 0; i < N; i++) {
                    assertTrue(Float.isFinite(p[i]), c.name() + ": parameter " + i + " at step " + t + " is " + p[i]);
                    double step = Math.abs((double) p[i] - old[i]);
                    double bound = c.bound().at(t, i, before, largestGradient);
                    worstRatio = Math.max(worstRatio, step / bound);
                    if (step > bound * (1 + 1e-5)) {
                        assertTrue(false, c.name() + ": element " + i + " moved " + step + " at step " + t
                                + ", the exact rule's bound is " + bound);
                    }
                }
            }
            assertTrue(!c.tight() || worstRatio > 0.3, c.name() + ": the data reach the bound's scale (" + worstRatio + ")");
        }
    }

    /**
     * The same data through the reference's arithmetic on its own 8-bit state (nearest rounding, no
     * floor; ScalarReplay): its steps break the exact bound by far, which is what the guards prevent.
     */
    @Test
    void theReferencesArithmeticOnTheSameDataGoesFurther() {
        Random random = new Random(11);
        float[] scale = new float[N];
        boolean[] steady = new boolean[N];
        for (int i = 0; i < N; i++) {
            scale[i] = (i % 256 == 0 && (i / 256) % 8 == 0) ? 1f : (float) Math.pow(10, -12 * random.nextDouble());
            steady[i] = random.nextInt(4) == 0;
        }
        ScalarReplay reference = new ScalarReplay("adam", 1e-3f, 0.9f, 0.999f, 1e-8f, 0f);
        QuantizationMap signed = StatisticKind.SIGNED.map();
        QuantizationMap unsigned = StatisticKind.UNSIGNED.map();
        byte[][] codes = {new byte[N], new byte[N]};
        float[][] absmax = {new float[N / 256], new float[N / 256]};
        float[] p = new float[N];
        double worst = 0;
        for (int t = 1; t <= 19; t++) {
            float[] g = gradient(t, random, scale, steady);
            float[] m = ScalarReplay.decode(codes[0], absmax[0], 256, signed);
            float[] v = ScalarReplay.decode(codes[1], absmax[1], 256, unsigned);
            float[] old = p.clone();
            reference.step(p, g, m, v, t, false);
            ScalarReplay.encode(m, 256, signed, true, false, codes[0], absmax[0]);
            ScalarReplay.encode(v, 256, unsigned, false, false, codes[1], absmax[1]);
            double bound = 1e-3 * Math.sqrt(1 - Math.pow(0.999f, t)) / (1 - Math.pow(0.9f, t)) * adamRatio(0.9, 0.999, t);
            for (int i = 0; i < N; i++) {
                worst = Math.max(worst, Math.abs(p[i] - old[i]) / bound);
            }
        }
        assertTrue(worst > 10, "the reference's steps reach " + worst + " times the exact bound");
    }

    @Test
    void aStatisticThatOverflowsSkipsItsElementIn8BitAndFreezesItInFloat32() {
        int n = 512;
        float[] p8 = new float[n];
        float[] p32 = new float[n];
        java.util.Arrays.fill(p8, 0.5f);
        java.util.Arrays.fill(p32, 0.5f);
        QuantizedState q = QuantizedState.allocate(n, 256, StatisticKind.SIGNED, StatisticKind.UNSIGNED);
        Float32State f = Float32State.allocate(n, StatisticKind.SIGNED, StatisticKind.UNSIGNED);
        for (int t = 1; t <= 3; t++) {
            float[] g = new float[n];
            java.util.Arrays.fill(g, 0.01f);
            if (t == 2) {
                g[5] = 1e20f;      // (g g)(1 - b2) overflows: DL4J's v becomes infinite
            }
            AdamRule rule = new AdamRule(0.9f, 0.999f, 1e-8f, adamStep(1e-3f, t), 1f, 0f, StatisticFloor.adam(0.9, 0.999, t), true);
            float before8 = p8[5];
            float before32 = p32[5];
            FusedUpdate.apply(FloatBuffer.wrap(p8), FloatBuffer.wrap(g.clone()), q, rule);
            FusedUpdate.apply(FloatBuffer.wrap(p32), FloatBuffer.wrap(g.clone()), f, rule);
            if (t >= 2) {
                assertEquals(before32, p32[5], "float32: v is infinite, so the parameter stays (DL4J's own behaviour)");
            }
            if (t == 2) {
                assertEquals(before8, p8[5], "8-bit: the element is skipped");
                float[] v = new float[n];
                q.decodeInto(1, v);
                assertEquals(0f, v[5], "8-bit: its statistics start again from zero");
                assertTrue(Float.isFinite(v[6]) && v[6] > 0f, "its neighbours keep theirs");
            }
            assertEquals(p32[6], p8[6], 1e-6f, "other elements step as in float32");
        }
        float[] v32 = new float[n];
        f.decodeInto(1, v32);
        assertEquals(Float.POSITIVE_INFINITY, v32[5]);
    }

    @Test
    void positiveDivisorsNeverStoreAsZero() {
        // One element at 1, the others from 1e-3 down to 1e-30: all of v's small values but the exact
        // zero keep a positive code, and decode to at least their value.
        int n = 256;
        float[] values = new float[n];
        values[0] = 1f;
        for (int i = 1; i < n - 1; i++) {
            values[i] = (float) Math.pow(10, -3 - 27.0 * i / n);
        }
        QuantizedState state = QuantizedState.allocate(n, 256, StatisticKind.UNSIGNED);
        byte[] codes = new byte[n];
        float largest = BlockCodec.largestMagnitude(values, n);
        state.store(0, 0, n, values.clone(), largest, true, codes);
        float[] decoded = new float[n];
        state.decodeInto(0, decoded);
        for (int i = 0; i < n - 1; i++) {
            assertTrue(decoded[i] > 0f, "element " + i + " (" + values[i] + ") decodes to " + decoded[i]);
        }
        assertEquals(0f, decoded[n - 1]);
        state.store(0, 0, n, values.clone(), largest, false, codes);
        state.decodeInto(0, decoded);
        assertEquals(0f, decoded[n - 2], "to nearest, the smallest values store as zero");
    }
}
