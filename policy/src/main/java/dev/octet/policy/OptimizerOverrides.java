package dev.octet.policy;

import java.math.BigDecimal;
import java.util.EnumMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Per-parameter optimizer hyperparameters that replace the job's own, as set by a rule's
 * {@code optimizer:} mapping. Each is {@code null} when not overridden.
 */
public record OptimizerOverrides(
        Double learningRate, Double beta1, Double beta2, Double epsilon, Double weightDecay, Double momentum) {

    /** No override at all. */
    public static final OptimizerOverrides NONE = new OptimizerOverrides(null, null, null, null, null, null);

    public OptimizerOverrides {
        Hyperparameter.LEARNING_RATE.validateIfSet(learningRate);
        Hyperparameter.BETA1.validateIfSet(beta1);
        Hyperparameter.BETA2.validateIfSet(beta2);
        Hyperparameter.EPSILON.validateIfSet(epsilon);
        Hyperparameter.WEIGHT_DECAY.validateIfSet(weightDecay);
        Hyperparameter.MOMENTUM.validateIfSet(momentum);
    }

    static OptimizerOverrides of(Map<Hyperparameter, Double> values) {
        return new OptimizerOverrides(
                values.get(Hyperparameter.LEARNING_RATE), values.get(Hyperparameter.BETA1),
                values.get(Hyperparameter.BETA2), values.get(Hyperparameter.EPSILON),
                values.get(Hyperparameter.WEIGHT_DECAY), values.get(Hyperparameter.MOMENTUM));
    }

    /** Whether nothing is overridden. */
    public boolean isEmpty() {
        return equals(NONE);
    }

    /** The overridden hyperparameters as policy keys and values, e.g. {@code learningRate 1E-4, beta2 0.95}. */
    public String describe() {
        StringJoiner out = new StringJoiner(", ");
        Map<Hyperparameter, Double> values = new EnumMap<>(Hyperparameter.class);
        values.put(Hyperparameter.LEARNING_RATE, learningRate);
        values.put(Hyperparameter.BETA1, beta1);
        values.put(Hyperparameter.BETA2, beta2);
        values.put(Hyperparameter.EPSILON, epsilon);
        values.put(Hyperparameter.WEIGHT_DECAY, weightDecay);
        values.put(Hyperparameter.MOMENTUM, momentum);
        values.forEach((h, v) -> {
            if (v != null) {
                BigDecimal d = BigDecimal.valueOf(v).stripTrailingZeros();
                boolean plain = v == 0 || (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e7);
                out.add(h.key() + " " + (plain ? d.toPlainString() : d.toString()));
            }
        });
        return out.toString();
    }

    /** A hyperparameter that a rule may override: its key in the policy file and its valid range. */
    public enum Hyperparameter {
        LEARNING_RATE("learningRate", false, Double.POSITIVE_INFINITY),
        BETA1("beta1", true, 1),
        BETA2("beta2", true, 1),
        EPSILON("epsilon", false, Double.POSITIVE_INFINITY),
        WEIGHT_DECAY("weightDecay", true, Double.POSITIVE_INFINITY),
        MOMENTUM("momentum", true, 1);

        /** Every hyperparameter is bounded below by 0; the bounds differ only in being inclusive. */
        private static final double LOWER_BOUND = 0;

        private final String key;
        private final boolean zeroAllowed;
        private final double upperBoundExclusive;

        Hyperparameter(String key, boolean zeroAllowed, double upperBoundExclusive) {
            this.key = key;
            this.zeroAllowed = zeroAllowed;
            this.upperBoundExclusive = upperBoundExclusive;
        }

        /** The key under {@code optimizer:} in a policy file. */
        public String key() {
            return key;
        }

        /** Returns {@code value} if it is in this hyperparameter's range; otherwise throws. */
        public double validate(double value) {
            boolean aboveLower = zeroAllowed ? value >= LOWER_BOUND : value > LOWER_BOUND;
            if (!aboveLower || !(value < upperBoundExclusive)) {
                throw new IllegalArgumentException(key + " " + format(value) + " is out of range. "
                        + key + " must be " + range());
            }
            // The frameworks compute in float32: a value that is infinite there, or rounds to zero, is not what was meant.
            if (Float.isInfinite((float) value) || (value > 0 && (float) value == 0f)) {
                throw new IllegalArgumentException(key + " " + format(value) + " is " + ((float) value == 0f ? "zero" : "infinite")
                        + " in float32, the precision optimizers compute in. " + key + " must be " + range()
                        + " and within float32's range (1.4e-45 to 3.4e38)");
            }
            return value;
        }

        private void validateIfSet(Double value) {
            if (value != null) {
                validate(value);
            }
        }

        private String range() {
            if (Double.isInfinite(upperBoundExclusive)) {
                return (zeroAllowed ? ">= " : "> ") + format(LOWER_BOUND);
            }
            return "in " + (zeroAllowed ? "[" : "(") + format(LOWER_BOUND) + ", " + format(upperBoundExclusive) + ")";
        }

        /** Plain decimal without a trailing ".0", so messages echo numbers as people write them. */
        private static String format(double value) {
            return Double.isFinite(value) ? BigDecimal.valueOf(value).stripTrailingZeros().toPlainString()
                    : Double.toString(value);
        }
    }
}
