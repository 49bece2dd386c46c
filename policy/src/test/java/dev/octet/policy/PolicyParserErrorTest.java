package dev.octet.policy;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Named.named;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every way a policy can be wrong gets one located, explanatory error. */
class PolicyParserErrorTest {

    private static final String SOURCE = "policy.yaml";

    @TempDir
    Path directory;

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidPolicies")
    void reportsWhereAndWhatIsWrong(String yaml, int line, int column, String... phrases) {
        PolicyException error = assertThrows(PolicyException.class, () -> PolicyParser.parse(yaml, SOURCE));
        assertLocated(error, SOURCE, line, column, phrases);
    }

    static Stream<Arguments> invalidPolicies() {
        return Stream.of(
                // malformed YAML
                invalid("malformed YAML", "defaults:\n  bits: 8: 9\n", 2, 10,
                        "malformed YAML", "mapping values are not allowed here"),
                invalid("unclosed flow list", "rules: [\n  {match: {name: a}, bits: 32}\n", 3, 1,
                        "malformed YAML"),
                // unknown keys
                invalid("unknown key, case typo", "defaults:\n  bits: 8\n  blocksize: 256\n", 3, 3,
                        "unknown key 'blocksize' in defaults; did you mean 'blockSize'? "
                                + "Valid keys: bits, blockSize, minQuantizedSize"),
                invalid("unknown key, bitsandbytes name", "defaults:\n  min_8bit_size: 0\n", 2, 3,
                        "unknown key 'min_8bit_size' in defaults; did you mean 'minQuantizedSize'?"),
                invalid("unknown key in a match", "rules:\n  - match: {nmae: a}\n    bits: 32\n", 2, 13,
                        "unknown key 'nmae' in match of rule 1; did you mean 'name'?"),
                invalid("unknown key, nothing close", "colour: red\n", 1, 1,
                        "unknown key 'colour' in the top level. Valid keys: version, defaults, rules, "
                                + "stableEmbeddings, onError, report"),
                // wrong types
                invalid("bits not a number", "defaults:\n  bits: eight\n", 2, 9,
                        "'bits' in defaults must be an integer, found the string \"eight\"", "whole number"),
                invalid("bits a float", "defaults:\n  bits: 8.0\n", 2, 9,
                        "must be an integer, found the number \"8.0\""),
                invalid("rules a mapping", "rules: {}\n", 1, 8,
                        "'rules' in the top level must be a list, found a mapping", "'- item'"),
                invalid("stableEmbeddings a string", "stableEmbeddings: \"x\"\n", 1, 19,
                        "'stableEmbeddings' in the top level must be a list, found the string \"x\""),
                invalid("defaults left empty", "defaults:\n", 1, 10,
                        "defaults must be a mapping, found an empty value"),
                invalid("quoted number", "rules:\n  - match: {name: a}\n    optimizer: {learningRate: \"0.001\"}\n",
                        3, 31, "'learningRate' in optimizer of rule 1 must be a number, found the string \"0.001\""),
                invalid("pattern not a string", "stableEmbeddings: [7]\n", 1, 20,
                        "item 1 of 'stableEmbeddings' must be a string, found the integer \"7\"", "quoted"),
                invalid("rule not a mapping", "rules:\n  - bits\n", 2, 5, "rule 1 must be a mapping"),
                invalid("top level a list", "- bits: 8\n", 1, 1,
                        "the top level must be a mapping, found a list"),
                invalid("top level a string", "just text\n", 1, 1,
                        "the top level must be a mapping, found the string \"just text\""),
                // out-of-range and impossible values
                invalid("bits 16", "defaults:\n  bits: 16\n", 2, 9, "bits 16 is not supported", "Use 8", "or 32"),
                invalid("blockSize not a power of two", "defaults: {blockSize: 300}\n", 1, 23,
                        "blockSize 300 is not a power of two", "from 64 to 4096"),
                invalid("blockSize too large", "defaults: {blockSize: 8192}\n", 1, 23,
                        "blockSize 8192 is out of range", "from 64 to 4096"),
                invalid("negative minQuantizedSize", "defaults: {minQuantizedSize: -1}\n", 1, 30,
                        "minQuantizedSize -1 is negative", ">= 0"),
                invalid("beta1 1.5", "rules:\n  - match: {name: a}\n    optimizer: {beta1: 1.5}\n", 3, 24,
                        "beta1 1.5 is out of range. beta1 must be in [0, 1)"),
                invalid("learningRate 0", "rules:\n  - match: {name: a}\n    optimizer: {learningRate: 0}\n", 3, 31,
                        "learningRate 0 is out of range. learningRate must be > 0"),
                invalid("infinite epsilon", "rules:\n  - match: {name: a}\n    optimizer: {epsilon: .inf}\n", 3, 26,
                        "'epsilon' in optimizer of rule 1 is .inf, not a finite number"),
                invalid("integer beyond 64 bits", "defaults: {minQuantizedSize: 99999999999999999999}\n", 1, 30,
                        "'minQuantizedSize' in defaults is 99999999999999999999, too large for a 64-bit integer"),
                invalid("minElements above maxElements",
                        "rules:\n  - match:\n      minElements: 5000\n      maxElements: 100\n    bits: 32\n", 3, 7,
                        "minElements 5000 is greater than maxElements 100", "Make minElements <= maxElements"),
                invalid("negative maxElements", "rules:\n  - match: {maxElements: -3}\n    bits: 32\n", 2, 26,
                        "maxElements -3 is negative"),
                invalid("unknown onError", "onError: ignore\n", 1, 10,
                        "onError 'ignore' is not supported. Use one of: warn, fail"),
                invalid("unknown report", "report: email\n", 1, 9,
                        "report 'email' is not supported. Use log, stderr, stdout or file:<path>"),
                invalid("report file without path", "report: \"file:\"\n", 1, 9, "report 'file:' names no file"),
                invalid("version 2", "version: 2\n", 1, 10, "version 2 is not supported", "version: 1"),
                // patterns
                invalid("invalid regex", "stableEmbeddings: [\"/embed(/\"]\n", 1, 20,
                        "invalid regular expression /embed(/: Unclosed group"),
                invalid("empty glob", "rules:\n  - match: {name: \"\"}\n    bits: 32\n", 2, 19,
                        "empty pattern \"\" matches no name"),
                invalid("empty regex", "stableEmbeddings: [\"//\"]\n", 1, 20, "empty pattern \"//\""),
                invalid("unclosed class in glob", "stableEmbeddings: [\"embed[0-9\"]\n", 1, 20,
                        "invalid glob \"embed[0-9\": unclosed '['"),
                invalid("unclosed alternatives in glob", "stableEmbeddings: [\"{a,b\"]\n", 1, 20,
                        "invalid glob \"{a,b\": unclosed '{'"),
                // duplicates
                invalid("duplicate top-level key", "onError: warn\nreport: log\nonError: fail\n", 3, 1,
                        "duplicate key 'onError' in the top level, first given at line 1"),
                invalid("duplicate key in a rule", "rules:\n  - match: {name: a}\n    bits: 32\n    bits: 8\n", 4, 5,
                        "duplicate key 'bits' in rule 1, first given at line 3"),
                // incomplete rules
                invalid("rule without match", "rules:\n  - match: {name: a}\n    bits: 32\n  - bits: 32\n", 4, 5,
                        "rule 2 has no 'match'", "with at least one of name, layerType, optimizer, minElements, maxElements"),
                invalid("match without criteria", "rules:\n  - match: {}\n    bits: 32\n", 2, 12,
                        "match has no criteria", "name: \"*\""),
                invalid("rule that sets nothing", "rules:\n  - match: {name: a}\n", 2, 5,
                        "rule 1 sets nothing", "bits, blockSize, minQuantizedSize or optimizer"),
                invalid("empty optimizer overrides", "rules:\n  - match: {name: a}\n    optimizer: {}\n", 3, 16,
                        "optimizer of rule 1 overrides nothing", "learningRate"),
                // documents and content
                invalid("two documents", "defaults: {}\n---\nrules: []\n", 3, 1, "more than one YAML document"),
                invalid("empty text", "", 1, 1, "the policy file is empty", "defaults: {}"),
                invalid("only comments and blank lines", "  \n# nothing yet\n\n", 1, 1, "the policy file is empty",
                        "Leave out the policy to get the defaults"),
                invalid("an empty document", "---\n", 1, 1, "the policy file is empty"),
                invalid("NUL character", "defaults: {}\nrules: [\0]\n", 2, 9, "NUL", "not a text YAML file"),
                invalid("control character", "defaults: {}\u0001\n", 1, 13, "U+0001", "not a text YAML file"));
    }

    private static Arguments invalid(String name, String yaml, int line, int column, String... phrases) {
        return Arguments.of(named(name, yaml), line, column, phrases);
    }

    @Test
    void zeroByteFileIsEmpty() throws IOException {
        Path file = Files.createFile(directory.resolve("empty.yaml"));
        assertLocated(parseFileError(file), file.toString(), 1, 1, "the policy file is empty", "defaults: {}");
    }

    @Test
    void fileWithNulBytesIsNotText() throws IOException {
        Path file = Files.write(directory.resolve("model.bin"), new byte[] {'P', 'K', 3, 4, 0, 0, 'x'});
        assertLocated(parseFileError(file), file.toString(), 1, 5, "contains a NUL character", "not a text YAML file");
    }

    @Test
    void fileWithInvalidUtf8IsNotText() throws IOException {
        byte[] latin1 = "defaults: {}\nreport: caf\u00e9\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        Path file = Files.write(directory.resolve("latin1.yaml"), latin1);
        assertLocated(parseFileError(file), file.toString(), 2, 12, "is not valid UTF-8 (byte 0xe9",
                "not a text YAML file", "UTF-8");
    }

    @Test
    void missingFileIsNamed() {
        Path file = directory.resolve("no-such-policy.yaml");
        PolicyException error = parseFileError(file);
        assertAll(
                () -> assertEquals(file.toString(), error.source()),
                () -> assertEquals(0, error.line()),
                () -> assertTrue(error.getMessage().startsWith(file + ": cannot read the policy file"), error.getMessage()),
                () -> assertTrue(error.getMessage().contains("NoSuchFileException"), error.getMessage()));
    }

    @Test
    void directoryIsNotReadableAsAFile() {
        PolicyException error = parseFileError(directory);
        assertTrue(error.getMessage().startsWith(directory + ": cannot read the policy file"), error.getMessage());
    }

    private static PolicyException parseFileError(Path file) {
        return assertThrows(PolicyException.class, () -> PolicyParser.parse(file));
    }

    private static void assertLocated(PolicyException error, String source, int line, int column, String... phrases) {
        String message = error.getMessage();
        assertAll(
                () -> assertEquals(source, error.source(), message),
                () -> assertEquals(line, error.line(), message),
                () -> assertEquals(column, error.column(), message),
                () -> assertTrue(message.startsWith(source + ":" + line + ":" + column + ": "), message),
                () -> assertEquals(1, message.lines().count(), message),
                () -> assertAll(Stream.of(phrases).map(phrase ->
                        () -> assertTrue(message.contains(phrase), "missing \"" + phrase + "\" in: " + message))));
    }
}
