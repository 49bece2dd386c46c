package dev.octet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.kernels.conformance.Conformance;
import dev.octet.kernels.rules.AdaBeliefRule;
import dev.octet.kernels.rules.AdaDeltaRule;
import dev.octet.kernels.rules.AdaMaxRule;
import dev.octet.kernels.rules.AdamRule;
import dev.octet.kernels.rules.AmsGradRule;
import dev.octet.kernels.rules.MxRules;
import dev.octet.kernels.rules.NadamRule;
import dev.octet.kernels.rules.ReferenceOptimizers;
import dev.octet.kernels.rules.VelocityNesterovRule;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class FusedUpdateTest {

    static final String[] OPTIMIZERS = {"adam", "adamw", "lamb", "momentum", "nesterov", "lars", "rmsprop", "adagrad", "lion"};

    /** Hyperparameters per optimizer: lr, beta1, beta2, eps, weight decay. */
    static ScalarReplay replay(String name) {
        return switch (name) {
            case "adam" -> new ScalarReplay(name, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f);
            case "adamw", "lamb" -> new ScalarReplay(name, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f);
            case "momentum", "nesterov", "lars" -> new ScalarReplay(name, 1e-2f, 0.9f, 0f, 0f, 1e-4f);
            case "rmsprop" -> new ScalarReplay(name, 1e-3f, 0.99f, 0f, 1e-8f, 1e-4f);
            case "adagrad" -> new ScalarReplay(name, 1e-2f, 0f, 0f, 1e-10f, 1e-4f);
            case "lion" -> new ScalarReplay(name, 1e-4f, 0.9f, 0.99f, 0f, 0.01f);
            default -> throw new IllegalArgumentException(name);
        };
    }

    static UpdateRule rule(ScalarReplay r, int t) {
        if (r.optimizer.equals("nesterov")) {
            return ReferenceOptimizers.momentum(r.lr, r.beta1, r.wd, t, true);
        }
        return ReferenceOptimizers.byName(r.optimizer, r.lr, new float[] {r.beta1, r.beta2}, r.eps, r.wd, t);
    }

    static float[] gaussian(Random random, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextGaussian() * scale);
        }
        return x;
    }

    @Test
    void passesTheConformanceCheckOnTheReferenceVectors() {
        List<Conformance.Row> rows = new Conformance(Golden.file(), KernelPool.shared()).run();
        assertTrue(rows.size() >= 17, "maps, three block sizes and two optimizers over six steps: " + rows.size());
        for (Conformance.Row row : rows) {
            assertTrue(row.pass(), row.subject() + ": " + row.detail());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"adam", "adamw", "lamb", "momentum", "nesterov", "lars", "rmsprop", "adagrad", "lion"})
    void float32StateFollowsTheFormulas(String name) {
        ScalarReplay r = replay(name);
        Random random = new Random(name.hashCode());
        int n = 10_000;
        float[] p = gaussian(random, n, 1);
        float[] expectedP = p.clone();
        float[] s1 = new float[n];
        float[] s2 = new float[n];
        Float32State state = Float32State.allocate(n, rule(r, 1).statistics());
        for (int t = 1; t <= 5; t++) {
            float[] g = gaussian(random, n, 0.1);
            r.step(expectedP, g.clone(), s1, s2, t);
            FusedUpdate.apply(FloatBuffer.wrap(p), FloatBuffer.wrap(g), state, rule(r, t));
        }
        assertEquals(0.0, Conformance.relativeErrorOf(p, expectedP), 1e-6, "parameters");
        float[] actual1 = new float[n];
        state.decodeInto(0, actual1);
        assertEquals(0.0, Conformance.relativeErrorOf(actual1, s1), 1e-6, "first statistic");
    }

    @ParameterizedTest
    @ValueSource(strings = {"adam", "adamw", "lamb", "momentum", "nesterov", "lars", "rmsprop", "adagrad", "lion"})
    void quantizedStateMatchesAPlainReplayOfTheSpec(String name) {
        ScalarReplay r = replay(name);
        Random random = new Random(name.hashCode() + 1);
        int n = 40_000 + 77; // several blocks and a partial one
        int blockSize = 256;
        StatisticKind[] kinds = rule(r, 1).statistics();
        QuantizedState state = QuantizedState.allocate(n, blockSize, kinds);
        float[] p0 = gaussian(random, n, 1);
        for (int t = 1; t <= 4; t++) {
            float[] g = gaussian(random, n, 0.1);
            // The replay starts from octet's own state after the previous step (as docs/technique.md section 7 compares).
            float[] s1 = ScalarReplay.decode(codes(state, 0), absmax(state, 0), blockSize, kinds[0].map());
            float[] s2 = kinds.length > 1
                    ? ScalarReplay.decode(codes(state, 1), absmax(state, 1), blockSize, kinds[1].map())
                    : new float[n];
            float[] expectedP = p0.clone();
            r.step(expectedP, g.clone(), s1, s2, t, true);
            FusedUpdate.apply(FloatBuffer.wrap(p0), FloatBuffer.wrap(g), state, rule(r, t));

            assertEquals(0.0, Conformance.relativeErrorOf(p0, expectedP), 1e-6, "parameters at step " + t);
            float[][] expectedStats = {s1, s2};
            for (int k = 0; k < kinds.length; k++) {
                byte[] expectedCodes = new byte[n];
                float[] expectedAbsmax = new float[QuantizedState.blocks(n, blockSize)];
                ScalarReplay.encode(expectedStats[k], blockSize, kinds[k].map(), kinds[k].keepsSign(), r.divides(k),
                        expectedCodes, expectedAbsmax);
                assertArrayEquals(expectedAbsmax, absmax(state, k), "absmax of statistic " + k + " at step " + t);
                int differing = 0;
                byte[] actual = codes(state, k);
                for (int i = 0; i < n; i++) {
                    int d = Math.abs((actual[i] & 0xFF) - (expectedCodes[i] & 0xFF));
                    assertTrue(d <= 1, "code distance at " + i);
                    differing += d == 0 ? 0 : 1;
                }
                assertTrue(differing <= n / 10_000, differing + " codes differ in statistic " + k);
            }
        }
    }

    static byte[] codes(QuantizedState s, int k) {
        byte[] out = new byte[s.length()];
        s.codes(k).get(0, out);
        return out;
    }

    static float[] absmax(QuantizedState s, int k) {
        float[] out = new float[QuantizedState.blocks(s.length(), s.blockSize())];
        s.absmax(k).get(0, out);
        return out;
    }

    @Test
    void nonFiniteGradientZeroesTheStatisticsAndLeavesTheParameter() {
        int n = 1024;
        Random random = new Random(3);
        float[] p = gaussian(random, n, 1);
        QuantizedState state = QuantizedState.allocate(n, 256, StatisticKind.SIGNED, StatisticKind.UNSIGNED);
        FusedUpdate.apply(FloatBuffer.wrap(p), FloatBuffer.wrap(gaussian(random, n, 0.1)), state,
                ReferenceOptimizers.adamW(1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, 1));
        float[] before = p.clone();
        float[] g = gaussian(random, n, 0.1);
        g[10] = Float.NaN;
        g[11] = Float.POSITIVE_INFINITY;
        g[700] = Float.NEGATIVE_INFINITY;
        FusedUpdate.apply(FloatBuffer.wrap(p), FloatBuffer.wrap(g), state,
                ReferenceOptimizers.adamW(1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, 2));
        float[] m = new float[n];
        float[] v = new float[n];
        state.decodeInto(0, m);
        state.decodeInto(1, v);
        for (int i : new int[] {10, 11, 700}) {
            assertEquals(before[i], p[i], 0f, "parameter " + i + " untouched (not even decayed)");
            assertEquals(0f, Math.abs(m[i]), 1e-30f, "first statistic of " + i);
            assertEquals(0f, v[i], 0f, "second statistic of " + i);
        }
        assertTrue(p[12] != before[12] && Float.isFinite(p[12]), "the rest of the block still updates");
        for (float x : p) {
            assertTrue(Float.isFinite(x));
        }
    }

    /**
     * Rules whose statistics carry a non-finite gradient element have their 8-bit step find such elements through
     * the statistics' absmax instead of a pass over the gradient first: the same bytes as a step that checks first,
     * for every such rule (each as a function of the step, counted from 1).
     */
    static List<Arguments> rulesCarryingNonFiniteGradients() {
        return List.of(
                Arguments.of("Adam", (IntFunction<UpdateRule>) t -> new AdamRule(0.9f, 0.999f, 1e-8f, 1e-3f, 1f, 0f,
                        StatisticFloor.adam(0.9, 0.999, t), true)),
                Arguments.of("Adam, beta1 0", (IntFunction<UpdateRule>) t -> new AdamRule(0f, 0.999f, 1e-8f, 1e-3f, 1f, 0f,
                        StatisticFloor.adam(0, 0.999, t), true)),
                Arguments.of("Adam, beta1 1", (IntFunction<UpdateRule>) t -> new AdamRule(1f, 0.999f, 1e-8f, 1e-3f, 1f, 0f,
                        StatisticFloor.adam(1, 0.999, t), true)),
                Arguments.of("AdamW", (IntFunction<UpdateRule>) t -> ReferenceOptimizers.adamW(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, t)),
                Arguments.of("LAMB", (IntFunction<UpdateRule>) t -> ReferenceOptimizers.lamb(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, t)),
                Arguments.of("momentum", (IntFunction<UpdateRule>) t -> ReferenceOptimizers.momentum(0.01f, 0.9f, 1e-4f, t, false)),
                Arguments.of("Nesterov", (IntFunction<UpdateRule>) t -> ReferenceOptimizers.momentum(0.01f, 0.9f, 0f, t, true)),
                Arguments.of("LARS", (IntFunction<UpdateRule>) t -> ReferenceOptimizers.lars(0.01f, 0.9f, 1e-4f, t)),
                Arguments.of("RMSProp", (IntFunction<UpdateRule>) t -> ReferenceOptimizers.rmsProp(1e-3f, 0.99f, 1e-8f, 1e-4f)),
                Arguments.of("Adagrad", (IntFunction<UpdateRule>) t -> ReferenceOptimizers.adagrad(1e-2f, 1e-10f, 0f)),
                Arguments.of("Lion", (IntFunction<UpdateRule>) t -> ReferenceOptimizers.lion(1e-4f, 0.9f, 0.99f, 0.01f)),
                Arguments.of("AdaBelief", (IntFunction<UpdateRule>) t -> new AdaBeliefRule(0.9f, 0.999f, 1e-8f, 1e-3f,
                        StatisticFloor.adaBelief(0.999, 1e-8, t))),
                Arguments.of("AdaDelta", (IntFunction<UpdateRule>) t -> new AdaDeltaRule(0.95f, 1e-6f)),
                Arguments.of("AdaMax", (IntFunction<UpdateRule>) t -> new AdaMaxRule(0.9f, 0.999f, 1e-3f,
                        StatisticFloor.adaMax(0.9, 0.999, t))),
                Arguments.of("AMSGrad", (IntFunction<UpdateRule>) t -> new AmsGradRule(0.9f, 0.999f, 1e-8f, 1e-3f,
                        StatisticFloor.adam(0.9, 0.999, t))),
                Arguments.of("Nadam", (IntFunction<UpdateRule>) t -> new NadamRule(0.9f, 0.999f, 1e-8f, 1e-3f,
                        (float) (1 - Math.pow(0.9, t)), StatisticFloor.adam(0.9, 0.999, t))),
                Arguments.of("DL4J's Nesterovs", (IntFunction<UpdateRule>) t -> new VelocityNesterovRule(0.9f, 0.01f)),
                Arguments.of("DJL's Adam", (IntFunction<UpdateRule>) t -> new MxRules.Adam(DJL_PREP, 0.9f, 0.999f, 1e-8f, 1e-3f,
                        1e-4f, 0f, 0f, StatisticFloor.adam(0.9, 0.999, t))),
                Arguments.of("DJL's AdamW", (IntFunction<UpdateRule>) t -> new MxRules.Adam(DJL_PREP, 0.9f, 0.999f, 1e-8f, 1e-3f,
                        0f, 1e-3f, 0.01f, StatisticFloor.adam(0.9, 0.999, t))),
                Arguments.of("DJL's Sgd", (IntFunction<UpdateRule>) t -> new MxRules.Sgd(DJL_PREP, 0.01f, 1e-4f, 0.9f)),
                Arguments.of("DJL's Nag", (IntFunction<UpdateRule>) t -> new MxRules.Nag(DJL_PREP, 0.01f, 1e-4f, 0.9f)),
                Arguments.of("DJL's RmsProp", (IntFunction<UpdateRule>) t -> new MxRules.RmsProp(DJL_PREP, 1e-3f, 0f, 0.9f, 1e-8f)),
                Arguments.of("DJL's centered RmsProp", (IntFunction<UpdateRule>) t -> new MxRules.CenteredRmsProp(DJL_PREP, 1e-3f,
                        0f, 0.9f, 0.9f, 1e-8f)),
                Arguments.of("DJL's Adagrad", (IntFunction<UpdateRule>) t -> new MxRules.Adagrad(DJL_PREP, 1e-2f, 0f, 1e-8f)),
                Arguments.of("DJL's Adadelta", (IntFunction<UpdateRule>) t -> new MxRules.Adadelta(DJL_PREP, 0f, 0.95f, 1e-6f)));
    }

    /** DJL's gradient preparation without clipping (its default): rescaled only. */
    private static final MxRules.Prep DJL_PREP = new MxRules.Prep(1f / 32, -1f, false);

    /** An infinite gradient element is skipped, not clipped to a finite step, where a rule clips inside (DJL's). */
    @Test
    void aRuleThatClipsInsideStillSkipsAnInfiniteGradient() {
        int n = 512;
        float[] p = gaussian(new Random(4), n, 1);
        float[] before = p.clone();
        float[] g = gaussian(new Random(5), n, 0.1);
        g[10] = Float.POSITIVE_INFINITY;
        g[11] = Float.NaN;
        MxRules.Sgd rule = new MxRules.Sgd(new MxRules.Prep(1f, 5f, false), 0.01f, 0f, 0.9f);
        assertTrue(!rule.statisticsCarryNonFiniteGradients());
        QuantizedState state = QuantizedState.allocate(n, 256, rule.statistics());
        FusedUpdate.apply(FloatBuffer.wrap(p), FloatBuffer.wrap(g), state, rule);
        float[] s = new float[n];
        state.decodeInto(0, s);
        for (int i : new int[] {10, 11}) {
            assertEquals(before[i], p[i], 0f, "parameter " + i);
            assertEquals(0f, s[i], 0f, "statistic " + i);
        }
        assertTrue(p[12] != before[12]);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rulesCarryingNonFiniteGradients")
    void nonFiniteGradientsFoundThroughTheStatisticsGiveTheCheckedStepsBytes(String name, IntFunction<UpdateRule> rules) {
        int n = 1000; // a partial last block
        for (StepOptions options : List.of(StepOptions.DEFAULT, StepOptions.DEFAULT.withGradDivisor(24f)
                .withOutput(StepOptions.Output.WRITE_UPDATE_TO_GRADIENT_AND_APPLY), StepOptions.DEFAULT.withGradScale(1e30f))) {
            Random random = new Random(11);
            float[] p = gaussian(random, n, 1);
            float[] pChecked = p.clone();
            StatisticKind[] kinds = rules.apply(1).statistics();
            QuantizedState carried = QuantizedState.allocate(n, 256, kinds);
            QuantizedState checked = QuantizedState.allocate(n, 256, kinds);
            for (int t = 1; t <= 4; t++) {
                float[] g = gaussian(random, n, 0.1);
                g[3] = Float.NaN;
                g[300 + t] = Float.POSITIVE_INFINITY;
                g[999] = Float.NEGATIVE_INFINITY;
                g[512] = 1e20f; // a square overflows
                for (int i = 768; i < 1000; i++) {
                    g[i] = t == 3 ? Float.NaN : g[i]; // a whole block, at one step
                }
                UpdateRule rule = rules.apply(t);
                assertTrue(rule.statisticsCarryNonFiniteGradients(), name);
                float[] gChecked = g.clone();
                FusedUpdate.apply(FloatBuffer.wrap(p), FloatBuffer.wrap(g), carried, rule, options, KernelPool.ofThreads(2));
                FusedUpdate.apply(FloatBuffer.wrap(pChecked), FloatBuffer.wrap(gChecked), checked, checkingFirst(rule), options,
                        KernelPool.ofThreads(2));
                String where = name + ", " + options + ", step " + t;
                assertArrayEquals(pChecked, p, 0f, where);
                assertArrayEquals(gChecked, g, 0f, where);
                for (int k = 0; k < kinds.length; k++) {
                    assertArrayEquals(codes(checked, k), codes(carried, k), where);
                    assertArrayEquals(absmax(checked, k), absmax(carried, k), 0f, where);
                }
            }
            for (float x : p) {
                assertTrue(Float.isFinite(x), name);
            }
        }
    }

    /** {@code rule} with the gradient checked before it (its statistics said not to carry non-finite elements). */
    private static UpdateRule checkingFirst(UpdateRule rule) {
        return new UpdateRule() {
            @Override
            public StatisticKind[] statistics() {
                return rule.statistics();
            }

            @Override
            public void update(float[] params, float[] grad, float[][] stats, float[] direction, int n) {
                rule.update(params, grad, stats, direction, n);
            }

            @Override
            public boolean divides(int statistic) {
                return rule.divides(statistic);
            }

            @Override
            public StatisticFloor decodedFloor() {
                return rule.decodedFloor();
            }

            @Override
            public float stepScale() {
                return rule.stepScale();
            }

            @Override
            public float decayBefore() {
                return rule.decayBefore();
            }

            @Override
            public float decayAfter() {
                return rule.decayAfter();
            }

            @Override
            public float maxUpdateNormRatio() {
                return rule.maxUpdateNormRatio();
            }
        };
    }

    @Test
    void resultsDoNotDependOnThreadsOrMemoryKind() {
        int n = 1 << 20;
        Random random = new Random(5);
        float[] p = gaussian(random, n, 1);
        float[] g = gaussian(random, n, 0.1);
        float[] pHeap = p.clone();
        QuantizedState heap = QuantizedState.allocate(n, 256, StatisticKind.SIGNED, StatisticKind.UNSIGNED);
        FusedUpdate.apply(FloatBuffer.wrap(pHeap), FloatBuffer.wrap(g.clone()), heap,
                ReferenceOptimizers.adam(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1), StepOptions.DEFAULT, KernelPool.ofThreads(1));

        FloatBuffer pDirect = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
        pDirect.put(0, p);
        FloatBuffer gDirect = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
        gDirect.put(0, g);
        QuantizedState direct = QuantizedState.allocateDirect(n, 256, StatisticKind.SIGNED, StatisticKind.UNSIGNED);
        FusedUpdate.apply(pDirect, gDirect, direct, ReferenceOptimizers.adam(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1),
                StepOptions.DEFAULT, KernelPool.ofThreads(4));

        float[] pDirectArray = new float[n];
        pDirect.get(0, pDirectArray);
        assertArrayEquals(pHeap, pDirectArray, 0f);
        assertArrayEquals(codes(heap, 0), codes(direct, 0));
        assertArrayEquals(codes(heap, 1), codes(direct, 1));
    }

    @Test
    void writeUpdateToGradientLeavesParametersAndReturnsTheStep() {
        int n = 5000;
        Random random = new Random(9);
        float[] p = gaussian(random, n, 1);
        float[] g = gaussian(random, n, 0.1);
        float[] applied = p.clone();
        var rule = ReferenceOptimizers.momentum(0.01f, 0.9f, 0f, 1, false);
        FusedUpdate.apply(FloatBuffer.wrap(applied), FloatBuffer.wrap(g.clone()),
                QuantizedState.allocate(n, 256, StatisticKind.SIGNED), rule);
        float[] params = p.clone();
        float[] update = g.clone();
        FusedUpdate.apply(FloatBuffer.wrap(params), FloatBuffer.wrap(update),
                QuantizedState.allocate(n, 256, StatisticKind.SIGNED), rule,
                StepOptions.DEFAULT.withOutput(StepOptions.Output.WRITE_UPDATE_TO_GRADIENT), KernelPool.shared());
        assertArrayEquals(p, params, 0f);
        for (int i = 0; i < n; i++) {
            assertEquals(applied[i], p[i] - update[i], 0f, "p - update at " + i);
        }
    }

    /** One step on copies of {@code p} and {@code g} with a fresh two-statistic 8-bit state (blocks of 256): what it leaves. */
    private record OneStep(float[] params, float[] gradient, QuantizedState state) {

        static OneStep of(float[] p, float[] g, UpdateRule rule, StepOptions options) {
            OneStep step = new OneStep(p.clone(), g.clone(),
                    QuantizedState.allocate(p.length, 256, StatisticKind.SIGNED, StatisticKind.UNSIGNED));
            FusedUpdate.apply(FloatBuffer.wrap(step.params), FloatBuffer.wrap(step.gradient), step.state, rule, options,
                    KernelPool.shared());
            return step;
        }

        void assertSameCodes(OneStep other) {
            assertArrayEquals(codes(state, 0), codes(other.state, 0));
            assertArrayEquals(codes(state, 1), codes(other.state, 1));
        }
    }

    /**
     * DL4J's step folded into the pass: the gradient receives what {@code WRITE_UPDATE_TO_GRADIENT} writes,
     * and the parameters become {@code p - update}, as DL4J's step function leaves them, bit for bit (with an
     * L2 term, so that the update is not just a scaled direction; a skipped element's parameter stays).
     */
    @Test
    void writingTheUpdateAndApplyingItIsWhatDl4jsStepDoesAfterwards() {
        int n = 5000;
        Random random = new Random(12);
        float[] p = gaussian(random, n, 1);
        float[] g = gaussian(random, n, 0.1);
        g[40] = Float.POSITIVE_INFINITY;
        var rule = ReferenceOptimizers.adam(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1);
        OneStep written = OneStep.of(p, g, rule, StepOptions.DEFAULT.withOutput(StepOptions.Output.WRITE_UPDATE_TO_GRADIENT));
        OneStep fused = OneStep.of(p, g, rule,
                StepOptions.DEFAULT.withOutput(StepOptions.Output.WRITE_UPDATE_TO_GRADIENT_AND_APPLY));
        assertArrayEquals(written.gradient(), fused.gradient(), 0f);
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToIntBits(p[i] - written.gradient()[i]), Float.floatToIntBits(fused.params()[i]),
                    "p - update at " + i);
        }
        assertEquals(p[40], fused.params()[40], 0f);
        written.assertSameCodes(fused);
    }

    /**
     * DL4J's division by the minibatch folded into the pass: the same parameters, update and codes as a
     * gradient divided beforehand ({@code g / 24} in float, as ND4J's {@code divi}; not {@code g * (1/24)},
     * which differs in the last bit for many elements), with a non-finite element skipped alike.
     */
    @Test
    void dividingTheGradientInThePassIsDividingItBeforehand() {
        int n = 5000;
        Random random = new Random(13);
        float[] p = gaussian(random, n, 1);
        float[] g = gaussian(random, n, 0.1);
        g[7] = Float.NaN;
        float[] divided = new float[n];
        int notAProduct = 0;
        for (int i = 0; i < n; i++) {
            divided[i] = g[i] / 24f;
            notAProduct += divided[i] != g[i] * (1f / 24f) ? 1 : 0;
        }
        assertTrue(notAProduct > 100, "the divisor tells division from a product: " + notAProduct);
        var rule = ReferenceOptimizers.adam(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1);
        StepOptions dl4j = StepOptions.DEFAULT.withOutput(StepOptions.Output.WRITE_UPDATE_TO_GRADIENT_AND_APPLY);
        OneStep before = OneStep.of(p, divided, rule, dl4j);
        OneStep inPass = OneStep.of(p, g, rule, dl4j.withGradDivisor(24f));
        assertArrayEquals(before.params(), inPass.params(), 0f);
        assertArrayEquals(before.gradient(), inPass.gradient(), 0f);
        assertEquals(p[7], inPass.params()[7], 0f);
        before.assertSameCodes(inPass);
        assertThrows(IllegalArgumentException.class, () -> StepOptions.DEFAULT.withGradDivisor(0f));
        assertThrows(IllegalArgumentException.class, () -> StepOptions.DEFAULT.withGradDivisor(Float.NaN));
    }

    @Test
    void zeroingTheGradientMovesParametersAlikeAndLeavesZeros() {
        int n = 5000; // not a multiple of the block
        Random random = new Random(10);
        float[] p = gaussian(random, n, 1);
        float[] g = gaussian(random, n, 0.1);
        g[17] = Float.NaN; // a skipped element's gradient is zeroed too
        var rule = ReferenceOptimizers.adam(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1);
        OneStep applied = OneStep.of(p, g, rule, StepOptions.DEFAULT);
        OneStep zeroing = OneStep.of(p, g, rule, StepOptions.DEFAULT.withOutput(StepOptions.Output.APPLY_TO_PARAMS_ZEROING_GRADIENT));
        assertArrayEquals(applied.params(), zeroing.params(), 0f);
        assertArrayEquals(new float[n], zeroing.gradient(), 0f);
        applied.assertSameCodes(zeroing);
    }

    @Test
    void gradientIsScaledThenClipped() {
        float[] p = new float[4];
        float[] g = {1f, -3f, 0.5f, 10f};
        Float32State state = Float32State.allocate(4, StatisticKind.SIGNED);
        // Momentum at step 1 with lr 1 moves p by exactly the prepared gradient.
        FusedUpdate.apply(FloatBuffer.wrap(p), FloatBuffer.wrap(g), state,
                ReferenceOptimizers.momentum(1f, 0.9f, 0f, 1, false),
                StepOptions.DEFAULT.withGradScale(2f).withGradClip(3f), KernelPool.shared());
        assertArrayEquals(new float[] {-2f, 3f, -1f, -3f}, p, 0f);
    }

    @Test
    void rejectsARuleThatDoesNotFitTheState() {
        var state = QuantizedState.allocate(10, 256, StatisticKind.SIGNED);
        assertThrows(IllegalArgumentException.class, () -> FusedUpdate.apply(FloatBuffer.allocate(10),
                FloatBuffer.allocate(10), state, ReferenceOptimizers.adam(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1)));
    }

    /**
     * Many tensors in one call, as a DL4J update block hands them over: sizes from 0 to above a
     * parallel task, 8-bit in three block sizes and float32, a non-finite gradient, a trust-ratio rule
     * (which goes through apply alone), and a tensor of another optimizer. Every parameter, update and
     * code must equal what apply gives each tensor on its own, on one thread and on several.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 8})
    void applyAllEqualsApplyPerTensorBitForBit(int threads) {
        int[] sizes = {96, 0, 1024, 6144, 65_536, 70_001, 262_144, 5000, 24_576, 1, 100_000};
        int[] blockSizes = {0, 256, 0, 2048, 256, 64, 2048, 4096, 256, 0, 256}; // 0: float32 state
        Random random = new Random(31);
        int tensors = sizes.length;
        float[][] p = new float[tensors][];
        float[][] g = new float[tensors][];
        UpdateRule[] rules = new UpdateRule[tensors];
        for (int t = 0; t < tensors; t++) {
            p[t] = gaussian(random, sizes[t], 1);
            g[t] = gaussian(random, sizes[t], 0.1);
            rules[t] = t == 7 ? ReferenceOptimizers.lamb(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 3)
                    : t == 9 ? ReferenceOptimizers.momentum(1e-2f, 0.9f, 0f, 3, false)
                    : ReferenceOptimizers.adam(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 3);
        }
        g[4][300] = Float.NaN;
        g[6][5] = Float.POSITIVE_INFINITY;
        for (StepOptions options : new StepOptions[] {StepOptions.DEFAULT,
                StepOptions.DEFAULT.withOutput(StepOptions.Output.WRITE_UPDATE_TO_GRADIENT),
                StepOptions.DEFAULT.withOutput(StepOptions.Output.WRITE_UPDATE_TO_GRADIENT_AND_APPLY),
                StepOptions.DEFAULT.withOutput(StepOptions.Output.APPLY_TO_PARAMS_ZEROING_GRADIENT)}) {
            OptimizerState[] alone = new OptimizerState[tensors];
            OptimizerState[] together = new OptimizerState[tensors];
            float[][] pAlone = new float[tensors][];
            float[][] gAlone = new float[tensors][];
            FloatBuffer[] pTogether = new FloatBuffer[tensors];
            FloatBuffer[] gTogether = new FloatBuffer[tensors];
            for (int t = 0; t < tensors; t++) {
                StatisticKind[] kinds = rules[t].statistics();
                alone[t] = blockSizes[t] == 0 ? Float32State.allocate(sizes[t], kinds)
                        : QuantizedState.allocate(sizes[t], blockSizes[t], kinds);
                together[t] = blockSizes[t] == 0 ? Float32State.allocate(sizes[t], kinds)
                        : QuantizedState.allocate(sizes[t], blockSizes[t], kinds);
                pAlone[t] = p[t].clone();
                gAlone[t] = g[t].clone();
                pTogether[t] = FloatBuffer.wrap(p[t].clone());
                gTogether[t] = FloatBuffer.wrap(g[t].clone());
            }
            KernelPool pool = KernelPool.ofThreads(threads);
            for (int step = 0; step < 2; step++) { // the second step starts from non-zero state
                for (int t = 0; t < tensors; t++) {
                    FusedUpdate.apply(FloatBuffer.wrap(pAlone[t]), FloatBuffer.wrap(gAlone[t]), alone[t], rules[t],
                            options, KernelPool.ofThreads(1));
                }
                FusedUpdate.applyAll(pTogether, gTogether, together, rules, options, pool);
            }
            for (int t = 0; t < tensors; t++) {
                String what = options.output() + ", tensor " + t;
                assertArrayEquals(pAlone[t], pTogether[t].array(), 0f, what + ": parameters");
                assertArrayEquals(gAlone[t], gTogether[t].array(), 0f, what + ": gradient or update");
                for (int k = 0; k < alone[t].statistics(); k++) {
                    if (alone[t] instanceof QuantizedState q) {
                        assertArrayEquals(codes(q, k), codes((QuantizedState) together[t], k), what + ": codes");
                        float[] a = new float[QuantizedState.blocks(sizes[t], q.blockSize())];
                        float[] b = a.clone();
                        q.absmax(k).get(0, a);
                        ((QuantizedState) together[t]).absmax(k).get(0, b);
                        assertArrayEquals(a, b, 0f, what + ": absmax");
                    } else {
                        float[] a = new float[sizes[t]];
                        float[] b = new float[sizes[t]];
                        ((Float32State) alone[t]).values(k).get(0, a);
                        ((Float32State) together[t]).values(k).get(0, b);
                        assertArrayEquals(a, b, 0f, what + ": float32 state");
                    }
                }
            }
        }
    }

    @Test
    void applyAllRejectsMismatchedArraysAndARuleThatDoesNotFit() {
        var state = QuantizedState.allocate(10, 256, StatisticKind.SIGNED);
        var adam = ReferenceOptimizers.adam(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1);
        FloatBuffer[] one = {FloatBuffer.allocate(10)};
        assertThrows(IllegalArgumentException.class, () -> FusedUpdate.applyAll(one, one, new OptimizerState[] {state},
                new UpdateRule[] {adam}, StepOptions.DEFAULT, KernelPool.shared()));
        assertThrows(IllegalArgumentException.class, () -> FusedUpdate.applyAll(one, new FloatBuffer[0],
                new OptimizerState[] {state}, new UpdateRule[] {adam}, StepOptions.DEFAULT, KernelPool.shared()));
    }
}
