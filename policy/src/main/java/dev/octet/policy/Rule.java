package dev.octet.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One entry of a policy's {@code rules}: the parameters it applies to, and what it sets for them.
 * Settings it leaves {@code null} come from the policy's defaults.
 *
 * @param number    1-based position in the policy; the first matching rule decides
 * @param line      the 1-based line of the policy where the rule starts (0 if not from a file)
 * @param match     which parameters the rule applies to
 * @param settings  the quantization settings it sets, possibly only some
 * @param overrides the optimizer hyperparameters it overrides, possibly none
 */
public record Rule(int number, int line, Match match, QuantizationSettings settings, OptimizerOverrides overrides) {

    public Rule {
        if (match == null) {
            throw new IllegalArgumentException("rule " + number + " has no '" + PolicyKeys.MATCH + "'. Add '"
                    + PolicyKeys.MATCH + ":' with at least one of " + String.join(", ", PolicyKeys.MATCH_CRITERIA));
        }
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(overrides, "overrides");
        if (settings.isEmpty() && overrides.isEmpty()) {
            throw new IllegalArgumentException("rule " + number + " sets nothing. Give at least one of "
                    + String.join(", ", PolicyKeys.SETTINGS) + " or " + PolicyKeys.OPTIMIZER);
        }
    }

    /** Whether this rule applies to {@code parameter}. */
    public boolean matches(ParameterInfo parameter) {
        return match.matches(parameter);
    }

    /** The rule for reports: {@code rule 2 (line 14: name "dense*_W")}. */
    public String describe() {
        return "rule " + number + " (line " + line + ": " + match.describe() + ")";
    }

    /**
     * The criteria of a rule, all of which must hold; {@code null} ones are not checked. At least
     * one is required, so that a rule applying to everything is written deliberately
     * ({@code name: "*"}) rather than by forgetting the criteria.
     *
     * @param name        pattern over the parameter's name
     * @param layerType   pattern over the simple class name of the parameter's layer
     * @param optimizer   pattern over the optimizer's name
     * @param minElements the least element count, inclusive
     * @param maxElements the greatest element count, inclusive
     */
    public record Match(NamePattern name, NamePattern layerType, NamePattern optimizer,
                        Long minElements, Long maxElements) {

        public Match {
            if (name == null && layerType == null && optimizer == null && minElements == null && maxElements == null) {
                throw new IllegalArgumentException("match has no criteria. Give at least one of "
                        + String.join(", ", PolicyKeys.MATCH_CRITERIA) + " (name: \"*\" matches every parameter)");
            }
            if (minElements != null) {
                validElementCount(PolicyKeys.MIN_ELEMENTS, minElements);
            }
            if (maxElements != null) {
                validElementCount(PolicyKeys.MAX_ELEMENTS, maxElements);
            }
            if (minElements != null && maxElements != null && minElements > maxElements) {
                throw new IllegalArgumentException(PolicyKeys.MIN_ELEMENTS + " " + minElements + " is greater than "
                        + PolicyKeys.MAX_ELEMENTS + " " + maxElements + ", so nothing can match. "
                        + "Make " + PolicyKeys.MIN_ELEMENTS + " <= " + PolicyKeys.MAX_ELEMENTS);
            }
        }

        /** Returns {@code count} if it is not negative; otherwise throws, naming {@code key}. */
        static long validElementCount(String key, long count) {
            if (count < 0) {
                throw new IllegalArgumentException(key + " " + count + " is negative. Use an element count >= 0");
            }
            return count;
        }

        /** Whether every given criterion holds for {@code parameter}. */
        public boolean matches(ParameterInfo parameter) {
            long elements = parameter.elements();
            return (name == null || name.matches(parameter.name()))
                    && (layerType == null || layerType.matches(parameter.layerType()))
                    && (optimizer == null || optimizer.matches(parameter.optimizer()))
                    && (minElements == null || elements >= minElements)
                    && (maxElements == null || elements <= maxElements);
        }

        /** The criteria for reports: {@code name "dense*_W", elements 1,000..1,000,000}. */
        public String describe() {
            List<String> criteria = new ArrayList<>();
            addPattern(criteria, PolicyKeys.NAME, name);
            addPattern(criteria, PolicyKeys.LAYER_TYPE, layerType);
            addPattern(criteria, PolicyKeys.OPTIMIZER, optimizer);
            if (minElements != null && maxElements != null) {
                criteria.add("elements " + formatCount(minElements) + ".." + formatCount(maxElements));
            } else if (minElements != null) {
                criteria.add("elements >= " + formatCount(minElements));
            } else if (maxElements != null) {
                criteria.add("elements <= " + formatCount(maxElements));
            }
            return String.join(", ", criteria);
        }

        private static void addPattern(List<String> criteria, String key, NamePattern pattern) {
            if (pattern != null) {
                criteria.add(key + " " + pattern);
            }
        }
    }

    /** An element count with thousands separators, as reports print them: {@code 1,048,576}. */
    static String formatCount(long elements) {
        return String.format(Locale.ROOT, "%,d", elements);
    }
}
