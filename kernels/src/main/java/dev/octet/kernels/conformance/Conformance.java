package dev.octet.kernels.conformance;

import dev.octet.kernels.BlockwiseQuantizer;
import dev.octet.kernels.FusedUpdate;
import dev.octet.kernels.KernelPool;
import dev.octet.kernels.QuantizationMap;
import dev.octet.kernels.QuantizedState;
import dev.octet.kernels.StatisticFloor;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import dev.octet.kernels.rules.AdamRule;
import dev.octet.kernels.rules.ReferenceOptimizers;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Checks octet's kernels against a reference file in the comparison docs/technique.md section 7 prescribes:
 * maps within one float32 ulp; block-wise codes identical and absmax equal; for each optimizer step,
 * starting from the reference's state after the previous step, at least 99.9% of codes identical per
 * statistic, none more than one code away, and parameters within {@code 1e-6} of the largest one.
 *
 * <p>Where octet differs from the reference on purpose, the step's line says which elements and why,
 * and they are held to another bar. octet's guards for 8-bit state (see
 * {@link dev.octet.kernels.StatisticFloor} and {@link UpdateRule#divides}) touch an element when the
 * reference's decoded second moment lies below the exact rule's floor, or when the reference rounded a
 * positive statistic the rule divides by to the zero code. Those elements ("guarded") are left out of
 * the code and parameter comparison; instead octet's step on each of them must stay within the exact
 * rule's bound (Adam family), and the line shows the largest step of each side next to that bound.
 */
public final class Conformance {

    static final double MIN_IDENTICAL_CODES = 0.999;
    static final int MAX_CODE_DISTANCE = 1;
    static final double MAX_PARAM_ERROR = 1e-6;
    static final int REFERENCE_BLOCK_SIZE = 256;

    private final ReferenceFile reference;
    private final Engine engine;

    /**
     * What runs the kernels under test: the CPU kernels ({@link #cpu}) or another backend (the CUDA
     * backend's engine, {@code dev.octet.kernels.tools.CudaConformanceEngine}).
     */
    public interface Engine {

        /** Block-wise quantization of {@code input} (no sign fix) into {@code codes} and {@code absmax}. */
        void quantize(QuantizationMap map, int blockSize, float[] input, byte[] codes, float[] absmax);

        /** One fused step: {@code params} and {@code state} are updated in place. */
        void update(float[] params, float[] grad, QuantizedState state, UpdateRule rule);
    }

    /** The CPU kernels on a pool. */
    public static Engine cpu(KernelPool pool) {
        return new Engine() {
            @Override
            public void quantize(QuantizationMap map, int blockSize, float[] input, byte[] codes, float[] absmax) {
                var quantizer = new BlockwiseQuantizer(map, blockSize, pool);
                quantizer.quantize(FloatBuffer.wrap(input), input.length, ByteBuffer.wrap(codes), FloatBuffer.wrap(absmax));
            }

            @Override
            public void update(float[] params, float[] grad, QuantizedState state, UpdateRule rule) {
                FusedUpdate.apply(FloatBuffer.wrap(params), FloatBuffer.wrap(grad), state, rule, StepOptions.DEFAULT, pool);
            }
        };
    }

    public Conformance(ReferenceFile reference, KernelPool pool) {
        this(reference, cpu(pool));
    }

    public Conformance(ReferenceFile reference, Engine engine) {
        this.reference = reference;
        this.engine = engine;
    }

    /** One line of the report. */
    public record Row(String subject, String detail, boolean pass) {
    }

    public List<Row> run() {
        List<Row> rows = new ArrayList<>();
        checkMap(rows, "map/dynamic_signed", QuantizationMap.dynamicSigned());
        checkMap(rows, "map/dynamic_unsigned", QuantizationMap.dynamicUnsigned());
        if (reference.has("qb/input")) {
            float[] input = reference.floats("qb/input");
            for (String codes : reference.arraysStartingWith("qb/bs")) {
                if (codes.endsWith("/codes")) {
                    checkBlockwise(rows, codes.substring(0, codes.length() - "/codes".length()), input);
                }
            }
        }
        for (String optimizer : reference.optimizers()) {
            checkOptimizer(rows, optimizer);
        }
        return rows;
    }

    private void checkMap(List<Row> rows, String array, QuantizationMap map) {
        if (!reference.has(array)) {
            return;
        }
        float[] expected = reference.floats(array);
        long worst = 0;
        for (int c = 0; c < expected.length; c++) {
            worst = Math.max(worst, ulpDistance(map.value(c), expected[c]));
        }
        rows.add(new Row(array, "largest difference " + worst + " ulp", worst <= 1));
    }

    private void checkBlockwise(List<Row> rows, String prefix, float[] input) {
        int blockSize = Integer.parseInt(prefix.substring("qb/bs".length()));
        byte[] expectedCodes = reference.bytes(prefix + "/codes");
        float[] expectedAbsmax = reference.floats(prefix + "/absmax");
        ByteBuffer codes = ByteBuffer.allocate(input.length);
        FloatBuffer absmax = FloatBuffer.allocate(QuantizedState.blocks(input.length, blockSize));
        engine.quantize(QuantizationMap.dynamicSigned(), blockSize, input.clone(), codes.array(), absmax.array());
        CodeComparison cmp = CodeComparison.of(codes.array(), expectedCodes);
        int absmaxDiffering = 0;
        for (int b = 0; b < expectedAbsmax.length; b++) {
            if (Float.floatToIntBits(absmax.get(b)) != Float.floatToIntBits(expectedAbsmax[b])) {
                absmaxDiffering++;
            }
        }
        String detail = String.format(Locale.ROOT, "codes %s identical, %d of %d absmax differ",
                cmp.percentIdentical(), absmaxDiffering, expectedAbsmax.length);
        rows.add(new Row(prefix, detail, cmp.identical() == cmp.total() && absmaxDiffering == 0));
    }

    private void checkOptimizer(List<Row> rows, String name) {
        Map<String, Object> meta = reference.optimizerMeta(name);
        @SuppressWarnings("unchecked")
        Map<String, Object> group = (Map<String, Object>) meta.get("group");
        int steps = Integer.parseInt(String.valueOf(meta.get("step")));
        float lr = number(group, "lr");
        float eps = number(group, "eps");
        float weightDecay = number(group, "weight_decay");
        float[] betas = betas(String.valueOf(group.get("betas")));
        UpdateRule probe;
        try {
            probe = ReferenceOptimizers.byName(name, lr, betas, eps, weightDecay, 1);
        } catch (IllegalArgumentException unknown) {
            rows.add(new Row("opt/" + name, unknown.getMessage(), false));
            return;
        }
        StatisticKind[] kinds = probe.statistics();
        float[] p0 = reference.floats("opt/p0");
        float[] grads = reference.floats("opt/grads");
        int n = p0.length;
        for (int t = 1; t <= steps; t++) {
            String before = "opt/" + name + "/step" + (t - 1) + "/";
            String after = "opt/" + name + "/step" + t + "/";
            float[] params = t == 1 ? p0 : reference.floats(before + "p");
            QuantizedState state = QuantizedState.allocate(n, REFERENCE_BLOCK_SIZE, kinds);
            if (t > 1) {
                for (int k = 0; k < kinds.length; k++) {
                    state.codes(k).put(0, reference.bytes(before + "state" + (k + 1)));
                    state.absmax(k).put(0, reference.floats(before + "absmax" + (k + 1)));
                }
            }
            UpdateRule rule = ReferenceOptimizers.byName(name, lr, betas, eps, weightDecay, t);
            boolean[] floored = flooredElements(state, rule);
            FloatBuffer p = FloatBuffer.wrap(params.clone());
            engine.update(p.array(), Arrays.copyOfRange(grads, (t - 1) * n, t * n), state, rule);

            byte[][] actual = new byte[kinds.length][n];
            byte[][] expected = new byte[kinds.length][];
            boolean[] guarded = floored.clone();
            int keptOffZero = 0;
            for (int k = 0; k < kinds.length; k++) {
                state.codes(k).get(0, actual[k]);
                expected[k] = reference.bytes(after + "state" + (k + 1));
                int zero = kinds[k].map().zeroCode();
                for (int i = 0; rule.divides(k) && i < n; i++) {
                    if ((expected[k][i] & 0xFF) == zero && (actual[k][i] & 0xFF) == zero + 1) {
                        guarded[i] = true;
                        keptOffZero++;
                    }
                }
            }
            // A guarded element that is its block's largest changes that block's absmax, and so possibly
            // every code of the block: such blocks are left out of the code comparison as a whole.
            boolean[] uncompared = guarded.clone();
            float[][] expectedAbsmax = new float[kinds.length][];
            for (int k = 0; k < kinds.length; k++) {
                expectedAbsmax[k] = reference.floats(after + "absmax" + (k + 1));
            }
            int blocksChanged = 0;
            for (int b = 0; b * REFERENCE_BLOCK_SIZE < n; b++) {
                int from = b * REFERENCE_BLOCK_SIZE;
                int to = Math.min(n, from + REFERENCE_BLOCK_SIZE);
                boolean touched = false;
                for (int i = from; i < to && !touched; i++) {
                    touched = guarded[i];
                }
                boolean changed = false;
                for (int k = 0; k < kinds.length && touched; k++) {
                    changed |= Float.floatToIntBits(state.absmax(k).get(b))
                            != Float.floatToIntBits(expectedAbsmax[k][b]);
                }
                if (changed) {
                    blocksChanged++;
                    Arrays.fill(uncompared, from, to, true);
                }
            }
            StringBuilder detail = new StringBuilder();
            boolean pass = true;
            for (int k = 0; k < kinds.length; k++) {
                CodeComparison cmp = CodeComparison.of(actual[k], expected[k], uncompared);
                detail.append(String.format(Locale.ROOT, "state%d %s identical (max distance %d), ",
                        k + 1, cmp.percentIdentical(), cmp.maxDistance()));
                pass &= cmp.fractionIdentical() >= MIN_IDENTICAL_CODES && cmp.maxDistance() <= MAX_CODE_DISTANCE;
            }
            float[] referenceAfter = reference.floats(after + "p");
            double error = relativeErrorOf(p.array(), referenceAfter, guarded);
            detail.append(String.format(Locale.ROOT, "param error %.2e", error));
            pass &= error <= MAX_PARAM_ERROR;
            int count = count(guarded);
            if (count > 0) {
                double bound = stepBound(rule, betas, t);
                double octetMove = largestMove(params, p.array(), guarded);
                double referenceMove = largestMove(params, referenceAfter, guarded);
                detail.append(String.format(Locale.ROOT, "; %d elements guarded (%d second moments below the exact"
                        + " rule's floor, %d divisor codes kept off zero; %d blocks' absmax changed by them),"
                        + " largest step there: reference %.3g, octet %.3g", count, count(floored), keptOffZero,
                        blocksChanged, referenceMove, octetMove));
                if (bound > 0) {
                    detail.append(String.format(Locale.ROOT, ", exact bound %.3g", bound));
                    pass &= octetMove <= bound * (1 + 1e-5);
                }
                detail.append("; elements ").append(firstIndices(guarded, 8));
            }
            rows.add(new Row("opt/" + name + " step " + t, detail.toString(), pass));
        }
    }

    /** The elements whose decoded second statistic lies below the rule's floor (8-bit guard, StatisticFloor). */
    private static boolean[] flooredElements(QuantizedState state, UpdateRule rule) {
        boolean[] out = new boolean[state.length()];
        StatisticFloor floor = rule.decodedFloor();
        if (floor == StatisticFloor.NONE) {
            return out;
        }
        float[] first = new float[state.length()];
        float[] second = new float[state.length()];
        state.decodeInto(0, first);
        state.decodeInto(1, second);
        for (int i = 0; i < out.length; i++) {
            out[i] = floor.raise(first[i], second[i]) != second[i];
        }
        return out;
    }

    /**
     * The largest step the exact rule can take at step {@code t}, where octet knows it: Adam's
     * {@code stepScale sqrt(C_t)} (StatisticFloor), plus decoupled decay of at most the largest
     * parameter times {@code 1 - decayAfter}; 0 where unknown.
     */
    private static double stepBound(UpdateRule rule, float[] betas, int t) {
        if (!(rule instanceof AdamRule adam) || rule.maxUpdateNormRatio() > 0f) {
            return 0;
        }
        StatisticFloor next = StatisticFloor.adam(betas[0], betas[1], t + 1L);
        return next == StatisticFloor.NONE ? 0 : adam.stepScale() / (double) next.coefficient()
                + (1 - adam.decayAfter());
    }

    private static double largestMove(float[] before, float[] after, boolean[] where) {
        double largest = 0;
        for (int i = 0; i < before.length; i++) {
            if (where[i]) {
                largest = Math.max(largest, Math.abs((double) after[i] - before[i]));
            }
        }
        return largest;
    }

    private static int count(boolean[] flags) {
        int c = 0;
        for (boolean f : flags) {
            c += f ? 1 : 0;
        }
        return c;
    }

    private static String firstIndices(boolean[] flags, int limit) {
        StringBuilder out = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < flags.length && shown < limit; i++) {
            if (flags[i]) {
                out.append(shown++ == 0 ? "" : ", ").append(i);
            }
        }
        int total = count(flags);
        return total > limit ? out + ", ... (" + total + ")" : out.toString();
    }

    /** {@code max|a - b| / max|b|}: the parameter error docs/technique.md section 7 bounds. */
    public static double relativeErrorOf(float[] actual, float[] expected) {
        return relativeErrorOf(actual, expected, new boolean[expected.length]);
    }

    /** {@link #relativeErrorOf} over the elements not {@code excluded} (the scale over all). */
    static double relativeErrorOf(float[] actual, float[] expected, boolean[] excluded) {
        double worst = 0;
        double scale = 0;
        for (int i = 0; i < expected.length; i++) {
            if (!excluded[i]) {
                worst = Math.max(worst, Math.abs((double) actual[i] - expected[i]));
            }
            scale = Math.max(scale, Math.abs((double) expected[i]));
        }
        return scale == 0 ? worst : worst / scale;
    }

    static long ulpDistance(float a, float b) {
        return Math.abs(orderedBits(a) - orderedBits(b));
    }

    private static long orderedBits(float f) {
        int bits = Float.floatToIntBits(f);
        return bits < 0 ? -(long) (bits & 0x7FFFFFFF) : bits;
    }

    private static float number(Map<String, Object> group, String key) {
        Object v = group.get(key);
        if (v == null) {
            throw new IllegalArgumentException("optimizer group lacks '" + key + "'");
        }
        return Float.parseFloat(String.valueOf(v));
    }

    /** Parses the reference's tuple string, e.g. {@code (0.9, 0.999)}. */
    static float[] betas(String tuple) {
        String inner = tuple.replace("(", "").replace(")", "").trim();
        String[] parts = inner.split(",");
        float[] out = new float[2];
        for (int i = 0; i < Math.min(2, parts.length); i++) {
            if (!parts[i].isBlank()) {
                out[i] = Float.parseFloat(parts[i].trim());
            }
        }
        return out;
    }

    /** How two code arrays agree. */
    record CodeComparison(int identical, int total, int maxDistance) {

        static CodeComparison of(byte[] actual, byte[] expected) {
            return of(actual, expected, new boolean[expected.length]);
        }

        /** Over the elements not {@code excluded}. */
        static CodeComparison of(byte[] actual, byte[] expected, boolean[] excluded) {
            int same = 0;
            int worst = 0;
            int total = 0;
            for (int i = 0; i < expected.length; i++) {
                if (excluded[i]) {
                    continue;
                }
                total++;
                int d = Math.abs((actual[i] & 0xFF) - (expected[i] & 0xFF));
                if (d == 0) {
                    same++;
                }
                worst = Math.max(worst, d);
            }
            return new CodeComparison(same, total, worst);
        }

        double fractionIdentical() {
            return total == 0 ? 1.0 : (double) identical / total;
        }

        String percentIdentical() {
            return String.format(Locale.ROOT, "%.4f%%", 100.0 * fractionIdentical());
        }
    }
}
