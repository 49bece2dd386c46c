package dev.octet.policy;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.function.LongPredicate;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/** The shipped JSON Schema accepts what the parser accepts, rejects what it rejects, and knows the same keys. */
class PolicySchemaTest {

    private static final String SCHEMA_RESOURCE = "/dev/octet/policy/octet-policy.schema.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNode SCHEMA_JSON = readSchemaJson();
    private static final JsonSchema SCHEMA =
            JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(SCHEMA_JSON);

    /** Where in the schema each list of parser keys is described. */
    private static final Map<String, List<String>> PARSER_KEYS_BY_SCHEMA_POINTER = Map.of(
            "/properties", PolicyKeys.TOP_LEVEL,
            "/$defs/defaults/properties", PolicyKeys.SETTINGS,
            "/$defs/rule/properties", PolicyKeys.RULE,
            "/$defs/match/properties", PolicyKeys.MATCH_CRITERIA,
            "/$defs/optimizer/properties", PolicyKeys.OPTIMIZER_OVERRIDES);

    static List<Path> validPolicies() {
        return PolicyFiles.valid();
    }

    static List<Path> invalidPolicies() {
        return PolicyFiles.invalid();
    }

    @ParameterizedTest
    @MethodSource("validPolicies")
    void acceptsValidPolicies(Path file) {
        PolicyParser.parse(file);
        assertEquals(Set.of(), validate(file));
    }

    @ParameterizedTest
    @MethodSource("invalidPolicies")
    void rejectsInvalidPoliciesAsTheParserDoes(Path file) {
        assertThrows(PolicyException.class, () -> PolicyParser.parse(file));
        assertFalse(validate(file).isEmpty(), "the schema accepts " + file.getFileName());
    }

    @ParameterizedTest
    @MethodSource("parserKeySections")
    void knowsTheParsersKeys(String pointer, List<String> parserKeys) {
        JsonNode properties = SCHEMA_JSON.at(pointer);
        assertTrue(properties.isObject(), "no " + pointer + " in the schema");
        Set<String> schemaKeys = new HashSet<>();
        properties.fieldNames().forEachRemaining(schemaKeys::add);
        assertEquals(Set.copyOf(parserKeys), schemaKeys);
    }

    static Stream<Arguments> parserKeySections() {
        return PARSER_KEYS_BY_SCHEMA_POINTER.entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @Test
    void hasNoSectionOfKeysTheParserLacks() {
        Set<String> pointers = new HashSet<>();
        collectPropertiesPointers(SCHEMA_JSON, "", pointers);
        assertEquals(PARSER_KEYS_BY_SCHEMA_POINTER.keySet(), pointers);
    }

    @Test
    void knowsTheParsersEnumerations() {
        assertAll(
                () -> assertEquals(Stream.of(Policy.OnError.values()).map(Policy.OnError::key).toList(),
                        textValues(SCHEMA_JSON.at("/properties/onError/enum"))),
                () -> assertAcceptsSameIntegers("/$defs/bits/enum", QuantizationSettings::validBits),
                () -> assertAcceptsSameIntegers("/$defs/blockSize/enum", QuantizationSettings::validBlockSize));
    }

    /** The integers a schema enum lists are those a parser validator accepts (over the plausible range). */
    private static void assertAcceptsSameIntegers(String enumPointer, LongConsumer validator) {
        Set<Long> schemaValues = new HashSet<>();
        SCHEMA_JSON.at(enumPointer).forEach(value -> schemaValues.add(value.longValue()));
        LongPredicate parserAccepts = value -> {
            try {
                validator.accept(value);
                return true;
            } catch (IllegalArgumentException e) {
                return false;
            }
        };
        LongStream.rangeClosed(-1, 2 * QuantizationSettings.MAX_BLOCK_SIZE).forEach(value ->
                assertEquals(schemaValues.contains(value), parserAccepts.test(value), enumPointer + " and " + value));
    }

    private static Set<ValidationMessage> validate(Path yamlFile) {
        try {
            Object yaml = new Load(LoadSettings.builder().setSchema(new CoreSchema()).build())
                    .loadFromString(Files.readString(yamlFile));
            return SCHEMA.validate(JSON.valueToTree(yaml));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void collectPropertiesPointers(JsonNode node, String pointer, Set<String> pointers) {
        node.fields().forEachRemaining(field -> {
            String child = pointer + "/" + field.getKey();
            if (field.getKey().equals("properties")) {
                pointers.add(child);
            } else if (field.getValue().isObject()) {
                collectPropertiesPointers(field.getValue(), child, pointers);
            }
        });
    }

    private static List<String> textValues(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(value -> values.add(value.asText()));
        return values;
    }

    private static JsonNode readSchemaJson() {
        try (InputStream in = PolicySchemaTest.class.getResourceAsStream(SCHEMA_RESOURCE)) {
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
