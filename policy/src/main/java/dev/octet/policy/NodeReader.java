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
        long value;
        try {
            value = parseCoreSchemaInteger(text).longValueExact();
        } catch (ArithmeticException e) {
            throw error(node, subject + " is " + text + ", too large for a 64-bit integer. Write a smaller whole number");
        }
        return validated(node, () -> convert.apply(value));
    }

    <T> T number(Node node, String subject, DoubleFunction<T> convert) {
        Optional<String> integer = scalar(node, Tag.INT);
        String text = integer.or(() -> scalar(node, Tag.FLOAT))
                .orElseThrow(() -> wrongType(node, subject, "a number", "Write a number without quotes, e.g. 0.001 or 1e-4"));
        double value = integer.isPresent() ? parseCoreSchemaInteger(text).doubleValue() : parseFloat(text);
        if (!Double.isFinite(value)) {
            throw error(node, subject + " is " + text + ", not a finite number. Write a finite number, e.g. 0.001 or 1e-4");
        }
        return validated(node, () -> convert.apply(value));
    }

    NamePattern pattern(Node node, String subject) {
        return string(node, subject, text -> NamePattern.compile(text, line(node)));
    }

    private static Optional<String> scalar(Node node, Tag tag) {
        return node instanceof ScalarNode scalar && scalar.getTag().equals(tag)
                ? Optional.of(scalar.getValue())
                : Optional.empty();
    }

    /** Core schema integers: decimal with an optional sign, 0o octal or 0x hexadecimal. */
    private static BigInteger parseCoreSchemaInteger(String text) {
        if (text.startsWith("0x")) {
            return new BigInteger(text.substring(2), 16);
        }
        if (text.startsWith("0o")) {
            return new BigInteger(text.substring(2), 8);
        }
        return new BigInteger(text);
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
        return kind + " \"" + scalar.getValue() + "\"";
    }
}
