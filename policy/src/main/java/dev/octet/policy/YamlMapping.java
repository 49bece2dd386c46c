package dev.octet.policy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.DoubleFunction;
import java.util.function.Function;
import java.util.function.LongFunction;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

/**
 * A mapping of the policy whose keys have been checked (each known, none given twice), with typed
 * access to its values by key. The YAML composer keeps duplicate keys, so they are caught here.
 */
final class YamlMapping {

    private final NodeReader reader;
    private final MappingNode node;
    private final String description;
    private final boolean topLevel;
    private final Map<String, Node> values;

    private YamlMapping(NodeReader reader, MappingNode node, String description, boolean topLevel,
                        Map<String, Node> values) {
        this.reader = reader;
        this.node = node;
        this.description = description;
        this.topLevel = topLevel;
        this.values = values;
    }

    /**
     * Checks the keys of {@code node}, described in messages as {@code description} ("defaults",
     * "rule 2"), against {@code validKeys}.
     */
    static YamlMapping check(NodeReader reader, MappingNode node, String description, boolean topLevel,
                             List<String> validKeys) {
        Map<String, Node> values = new LinkedHashMap<>();
        Map<String, Node> keyNodes = new LinkedHashMap<>();
        for (NodeTuple entry : node.getValue()) {
            Node keyNode = entry.getKeyNode();
            if (!(keyNode instanceof ScalarNode scalarKey)) {
                throw reader.error(keyNode, "a key in " + description + " is not a plain name. Valid keys: "
                        + String.join(", ", validKeys));
            }
            String key = scalarKey.getValue();
            if (!validKeys.contains(key)) {
                throw reader.error(keyNode, unknownKey(key, description, validKeys));
            }
            Node first = keyNodes.putIfAbsent(key, keyNode);
            if (first != null) {
                throw reader.error(keyNode, "duplicate key '" + NodeReader.excerpt(key) + "' in " + description
                        + ", first given at line "
                        + NodeReader.line(first) + ". Keep only one of them");
            }
            values.put(key, entry.getValueNode());
        }
        return new YamlMapping(reader, node, description, topLevel, values);
    }

    MappingNode node() {
        return node;
    }

    String description() {
        return description;
    }

    boolean isEmpty() {
        return values.isEmpty();
    }

    <T> Optional<T> string(String key, Function<String, T> convert) {
        return value(key).map(value -> reader.string(value, subject(key), convert));
    }

    <T> Optional<T> integer(String key, LongFunction<T> convert) {
        return value(key).map(value -> reader.integer(value, subject(key), convert));
    }

    <T> Optional<T> number(String key, DoubleFunction<T> convert) {
        return value(key).map(value -> reader.number(value, subject(key), convert));
    }

    Optional<NamePattern> pattern(String key) {
        return value(key).map(value -> reader.pattern(value, subject(key)));
    }

    Optional<List<Node>> list(String key) {
        return value(key).map(value -> reader.list(value, subject(key)));
    }

    /** The mapping under {@code key}, described as "match of rule 2" (or just "defaults" at the top). */
    Optional<YamlMapping> mapping(String key, List<String> validKeys) {
        String childDescription = topLevel ? key : key + " of " + description;
        return value(key).map(value -> reader.mapping(value, childDescription, validKeys));
    }

    private Optional<Node> value(String key) {
        return Optional.ofNullable(values.get(key));
    }

    private String subject(String key) {
        return "'" + key + "' in " + description;
    }

    private static String unknownKey(String key, String description, List<String> validKeys) {
        String suggestion = suggest(key, validKeys).map(valid -> "; did you mean '" + valid + "'?").orElse(".");
        return "unknown key '" + NodeReader.excerpt(key) + "' in " + description + suggestion + " Valid keys: "
                + String.join(", ", validKeys);
    }

    /** The valid key meant by a misspelt or bitsandbytes-named {@code key}, if one is close enough. */
    private static Optional<String> suggest(String key, List<String> validKeys) {
        String bitsandbytesName = PolicyKeys.BITSANDBYTES_NAMES.get(key);
        if (bitsandbytesName != null && validKeys.contains(bitsandbytesName)) {
            return Optional.of(bitsandbytesName);
        }
        return NearestName.among(key, validKeys);
    }
}
