package dev.octet.policy;

import java.math.BigInteger;
import java.util.List;
import java.util.Optional;
import java.util.function.DoubleFunction;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * Reads typed values out of the YAML node tree of one policy file. Every failure, a wrong type or
 * a value the model rejects, becomes a {@link PolicyException} located at the offending node.
 * Scalars are typed by the YAML 1.2 core schema the parser composes with, so {@code 8} is an
 * integer, {@code 1e-4} a float and {@code "8"} a string.
 */
final class NodeReader {

    private final String source;

    NodeReader(String source) {
        this.source = source;
    }

    PolicyException error(Node node, String problem) {
        Mark mark = node.getStartMark().orElseThrow(() -> new IllegalStateException("composed without marks"));
        return new PolicyException(source, mark.getLine() + 1, mark.getColumn() + 1, problem);
    }

    /** The 1-based line where {@code node} starts. */
    static int line(Node node) {
        return node.getStartMark().map(mark -> mark.getLine() + 1).orElse(0);
    }

    /** Runs {@code construct}, blaming {@code node} for the IllegalArgumentException it may throw. */
    <T> T validated(Node node, Supplier<T> construct) {
        try {
            return construct.get();
        } catch (IllegalArgumentException e) {
            throw error(node, e.getMessage());
        }
    }

    YamlMapping topLevel(Node node, List<String> validKeys) {
        return YamlMapping.check(this, asMapping(node, "the top level"), "the top level", true, validKeys);
    }

    YamlMapping mapping(Node node, String description, List<String> validKeys) {
        return YamlMapping.check(this, asMapping(node, description), description, false, validKeys);
    }

    private MappingNode asMapping(Node node, String description) {
        if (node instanceof MappingNode mapping) {
            return mapping;
        }
        throw wrongType(node, description, "a mapping", "Write it as 'key: value' lines indented under it, or as {key: value}");
    }

    List<Node> list(Node node, String subject) {
        if (node instanceof SequenceNode sequence) {
            return sequence.getValue();
        }
        throw wrongType(node, subject, "a list", "Write one '- item' per line, or [item, item]");
    }

    <T> T string(Node node, String subject, Function<String, T> convert) {
        String text = scalar(node, Tag.STR)
                .orElseThrow(() -> wrongType(node, subject, "a string", "Write it as text, quoted if it looks like a number"));
        return validated(node, () -> convert.apply(text));
    }

    <T> T integer(Node node, String subject, LongFunction<T> convert) {
        String text = scalar(node, Tag.INT)
                .orElseThrow(() -> wrongType(node, subject, "an integer", "Write a whole number without quotes"));
        BigInteger parsed = parseCoreSchemaInteger(text).orElseThrow(() -> error(node, subject + " is "
                + excerpt(text) + ", which is not a whole number. Write a whole number, e.g. 8 or 4096"));
        if (parsed.bitLength() >= 64) {
            throw error(node, subject + " is " + excerpt(text) + ", too large for a 64-bit integer. Write a smaller whole"
                    + " number");
        }
        long value = parsed.longValue();
        return validated(node, () -> convert.apply(value));
    }

    <T> T number(Node node, String subject, DoubleFunction<T> convert) {
        Optional<String> integer = scalar(node, Tag.INT);
        String text = integer.or(() -> scalar(node, Tag.FLOAT))
                .orElseThrow(() -> wrongType(node, subject, "a number", "Write a number without quotes, e.g. 0.001 or 1e-4"));
        double value = integer.isPresent()
                ? parseCoreSchemaInteger(text).map(BigInteger::doubleValue).orElse(Double.NaN)
                : text.length() > MAX_NUMBER ? Double.NaN : parseFloat(text);
        if (!Double.isFinite(value)) {
            throw error(node, subject + " is " + excerpt(text) + ", not a finite number. Write a finite number, e.g. 0.001"
                    + " or 1e-4");
        }
        return validated(node, () -> convert.apply(value));
    }

    /** Longest number a policy may hold (digits of a long, a double's, and some): parsed only when shorter. */
    private static final int MAX_NUMBER = 40;

    NamePattern pattern(Node node, String subject) {
        return string(node, subject, text -> NamePattern.compile(text, line(node)));
    }

    private Optional<String> scalar(Node node, Tag tag) {
        if (!(node instanceof ScalarNode scalar) || !scalar.getTag().equals(tag)) {
            return Optional.empty();
        }
        if (scalar.getValue().length() > MAX_SCALAR) {
            throw error(node, "a value of " + scalar.getValue().length() + " characters (\"" + excerpt(scalar.getValue())
                    + "\"); a policy's values have at most " + MAX_SCALAR + ". Write a shorter value");
        }
        return Optional.of(scalar.getValue());
    }

    /** Longest scalar a policy may hold: names and patterns are short. */
    static final int MAX_SCALAR = 4096;

    /**
     * Core schema integers: decimal with an optional sign, 0o octal or 0x hexadecimal; empty for text
     * that is none of these (an explicit {@code !!int} tag on anything). Digits beyond what any 64-bit
     * number has are not read (a BigInteger of a million digits takes seconds): such text reads as a
     * number too large.
     */
    private static Optional<BigInteger> parseCoreSchemaInteger(String text) {
        if (text.length() > MAX_NUMBER) {
            return text.chars().allMatch(c -> Character.isDigit(c) || c == '-' || c == '+')
                    ? Optional.of(BigInteger.ONE.shiftLeft(64)) : Optional.empty();
        }
        try {
            if (text.startsWith("0x")) {
                return Optional.of(new BigInteger(text.substring(2), 16));
            }
            if (text.startsWith("0o")) {
                return Optional.of(new BigInteger(text.substring(2), 8));
            }
            return Optional.of(new BigInteger(text));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** {@code text} as messages show it: at most 60 characters of it, one line. */
    static String excerpt(String text) {
        String oneLine = text.replace('\n', ' ').replace('\r', ' ');
        return oneLine.length() <= 60 ? oneLine : oneLine.substring(0, 57) + "...";
    }

    /** Core schema floats; .inf and .nan, which Java spells differently, come back as NaN. */
    private static double parseFloat(String text) {
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private PolicyException wrongType(Node node, String subject, String expected, String fix) {
        return error(node, subject + " must be " + expected + ", found " + describe(node) + ". " + fix);
    }

    private static String describe(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        ScalarNode scalar = (ScalarNode) node;
        Tag tag = scalar.getTag();
        if (tag.equals(Tag.NULL)) {
            return "an empty value";
        }
        String kind = tag.equals(Tag.STR) ? "the string"
                : tag.equals(Tag.INT) ? "the integer"
                : tag.equals(Tag.FLOAT) ? "the number"
                : tag.equals(Tag.BOOL) ? "the boolean"
                : "the value";
        return kind + " \"" + excerpt(scalar.getValue()) + "\"";
    }
}
