package dev.octet.kernels;

/**
 * A lower bound that a rule's exact (float32) form keeps on its second statistic, given its first,
 * whatever the gradients were: restored on statistics decoded from 8 bits before each step, so that
 * no 8-bit step can go further than the exact rule could.
 *
 * <p>Why it is needed: each statistic is scaled by its own block's absmax. An element whose second
 * moment is more than about seven orders of magnitude below its block's largest decodes to zero,
 * while its first moment, relative to its own block's largest, survives; the step
 * {@code m / (sqrt(0) + eps)} then is as large as {@code m / eps}. Exact Adam can never get there:
 * its moments obey {@code m^2 <= C_n v} after {@code n} steps (Cauchy-Schwarz on the two exponential
 * averages), with
 * <pre>
 *   C_n = (1 - b1)^2 / (1 - b2) * sum_{j < n} r^j,   r = b1^2 / b2
 * </pre>
 * and this bound carries over from step to step: if the old moments obey it with {@code C_{n-1}}, the
 * new ones obey it with {@code C_n} for any gradient. So restoring {@code v >= m^2 / C_{n-1}} on the
 * decoded state bounds the next step by the exact rule's own bound,
 * {@code |m_n| / sqrt(v_n) <= sqrt(C_n)} (for b1 = 0.9, b2 = 0.999: 3.16 at the first step, 7.27 in
 * the limit, before bias correction). Where the decoded state is accurate the floor changes nothing.
 * (A NaN second statistic, which only a corrupt absmax can decode to, becomes the bound: CUDA's fmaxf.)
 *
 * <p>The forms, {@code s0} and {@code s1} the rule's first and second statistic and {@code k} the
 * coefficient:
 * <ul>
 *   <li>{@link Form#SQUARE}: {@code s1 >= (k s0)^2}, {@code k = 1 / sqrt(C_n)} (Adam, AdamW, LAMB,
 *       Nadam, AMSGrad's second moment);
 *   <li>{@link Form#MAGNITUDE}: {@code s1 >= k |s0|}, AdaMax: {@code |m| <= C'_n u} with
 *       {@code C'_n = (1 - b1) sum_{j < n} (b1 / b2)^j}, {@code k = 1 / C'_n};
 *   <li>{@link Form#CONSTANT}: {@code s1 >= k}, AdaBelief, whose second statistic gains epsilon every
 *       step: {@code k = eps sum_{j < n} b2^j}.
 * </ul>
 * A step count of zero or less (a state of unknown age) takes the limit for {@code n -> infinity}
 * where it exists, which holds for every history; where the exact rule has no bound (a beta of 1,
 * {@code r >= 1}), the floor is {@link #NONE}. The products are float32, in this order, on the CPU and
 * the GPU alike.
 *
 * @param form how the bound depends on the first statistic
 * @param coefficient {@code k} above
 */
public record StatisticFloor(Form form, float coefficient) {

    /** How the second statistic's bound depends on the first. */
    public enum Form {
        NONE, SQUARE, MAGNITUDE, CONSTANT
    }

    public static final StatisticFloor NONE = new StatisticFloor(Form.NONE, 0f);

    public StatisticFloor {
        if (!(coefficient >= 0f) || Float.isInfinite(coefficient)) {
            throw new IllegalArgumentException("a floor's coefficient is finite and >= 0, got " + coefficient);
        }
    }

    /**
     * Adam's bound before step {@code step} (counted from 1): {@code v >= m^2 / C_{step - 1}}.
     */
    public static StatisticFloor adam(double beta1, double beta2, long step) {
        if (!betas(beta1, beta2) || beta2 == 0.0) {
            return NONE;
        }
        double c = (1 - beta1) * (1 - beta1) / (1 - beta2) * geometricSum(beta1 * beta1 / beta2, step - 1);
        return of(Form.SQUARE, 1 / Math.sqrt(c));
    }

    /** AdaMax's bound before step {@code step}: {@code u >= |m| / C'_{step - 1}}. */
    public static StatisticFloor adaMax(double beta1, double beta2, long step) {
        if (!betas(beta1, beta2) || beta2 == 0.0) {
            return NONE;
        }
        double c = (1 - beta1) * geometricSum(beta1 / beta2, step - 1);
        return of(Form.MAGNITUDE, 1 / c);
    }

    /** AdaBelief's bound before step {@code step}: {@code s >= eps sum_{j < step - 1} b2^j} (none for a state of unknown age). */
    public static StatisticFloor adaBelief(double beta2, double epsilon, long step) {
        if (!(beta2 >= 0.0 && beta2 < 1.0) || !(epsilon > 0.0) || step <= 1) {
            return NONE;
        }
        return of(Form.CONSTANT, epsilon * geometricSum(beta2, step - 1));
    }

    private static boolean betas(double beta1, double beta2) {
        return beta1 >= 0.0 && beta1 < 1.0 && beta2 >= 0.0 && beta2 < 1.0;
    }

    /** {@code sum_{j < n} r^j}, or its limit for {@code n <= 0} (infinite where there is none). */
    private static double geometricSum(double r, long n) {
        if (n <= 0) {
            return r < 1.0 ? 1.0 / (1.0 - r) : Double.POSITIVE_INFINITY;
        }
        return r == 1.0 ? n : (1.0 - Math.pow(r, n)) / (1.0 - r);
    }

    /** A floor whose coefficient is a positive float32, else none (no bound, or none worth applying). */
    private static StatisticFloor of(Form form, double coefficient) {
        float k = (float) coefficient;
        return k > 0f && k <= Float.MAX_VALUE ? new StatisticFloor(form, k) : NONE;
    }

    /** {@code second} raised to the bound {@code first} implies (as {@link #apply} computes it). */
    public float raise(float first, float second) {
        float bound = switch (form) {
            case SQUARE -> (first * coefficient) * (first * coefficient);
            case MAGNITUDE -> Math.abs(first) * coefficient;
            case CONSTANT -> coefficient;
            case NONE -> second;
        };
        return !(second >= bound) ? bound : second;
    }

    /** Raises {@code second[0..n)} to the bound its {@code first[0..n)} implies. */
    void apply(float[] first, float[] second, int n) {
        apply(first, second, n, false);
    }

    /**
     * {@link #apply(float[], float[], int)}, told whether the statistics are ordinary numbers: no NaN in either
     * array and no -0 in {@code second}, as statistics decoded with finite, non-negative scales are. Then
     * {@code !(s >= bound) ? bound : s} is {@code Math.max(s, bound)} bit for bit, which the JIT vectorizes (the
     * conditional it does not: 0.11 against 0.55 ns per element on JDK 17 and 25 here); the SIMD codec's loop
     * needs no such promise.
     */
    void apply(float[] first, float[] second, int n, boolean ordinaryNumbers) {
        float k = coefficient;
        switch (form) {
            case SQUARE -> {
                if (CpuCodec.simd()) {
                    VectorCodec.raiseToSquareFloor(first, second, k, n);
                } else if (ordinaryNumbers) {
                    for (int i = 0; i < n; i++) {
                        float r = first[i] * k;
                        second[i] = Math.max(second[i], r * r);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        float r = first[i] * k;
                        float bound = r * r;
                        second[i] = !(second[i] >= bound) ? bound : second[i];
                    }
                }
            }
            case MAGNITUDE -> {
                if (ordinaryNumbers) {
                    for (int i = 0; i < n; i++) {
                        second[i] = Math.max(second[i], Math.abs(first[i]) * k);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        float bound = Math.abs(first[i]) * k;
                        second[i] = !(second[i] >= bound) ? bound : second[i];
                    }
                }
            }
            case CONSTANT -> {
                if (ordinaryNumbers) {
                    for (int i = 0; i < n; i++) {
                        second[i] = Math.max(second[i], k);
                    }
                } else {
                    for (int i = 0; i < n; i++) {
                        second[i] = !(second[i] >= k) ? k : second[i];
                    }
                }
            }
            case NONE -> {
            }
        }
    }
}
