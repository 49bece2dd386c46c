package dev.octet.policy;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** What a valid policy file reads into. */
class PolicyParserTest {

    @Test
    void defaultsAreBitsandbytesDefaults() {
        Policy policy = Policy.defaults();
        assertAll(
                () -> assertEquals(8, policy.defaultBits()),
                () -> assertEquals(256, policy.defaultBlockSize()),
                () -> assertEquals(4096, policy.defaultMinQuantizedSize()),
                () -> assertEquals(List.of(), policy.rules()),
                () -> assertEquals(List.of(), policy.stableEmbeddings()),
                () -> assertEquals(Policy.OnError.WARN, policy.onError()),
                () -> assertEquals(ReportTarget.LOG, policy.report()),
                () -> assertEquals("<defaults>", policy.source()));
    }

    @Test
    void emptyDefaultsMappingGivesTheDefaults() {
        Policy policy = PolicyParser.parse("defaults: {}\n", "minimal.yaml");
        assertAll(
                () -> assertEquals(8, policy.defaultBits()),
                () -> assertEquals(256, policy.defaultBlockSize()),
                () -> assertEquals(4096, policy.defaultMinQuantizedSize()),
                () -> assertEquals("minimal.yaml", policy.source()));
    }

    @Test
    void readsEverySection() {
        Policy policy = PolicyParser.parse("""
                version: 1
                defaults: {bits: 32, minQuantizedSize: 0}
                rules:
                  - match: {name: "a*", layerType: "/Dense.*/", optimizer: Adam, minElements: 1, maxElements: 9}
                    bits: 8
                    blockSize: 64
                    optimizer: {learningRate: 0.5, beta1: 0, beta2: 0.9, epsilon: 1e-8, weightDecay: 0, momentum: 0.9}
                  - match: {name: b}
                    minQuantizedSize: 10
                stableEmbeddings: ["emb", "/tok.*/"]
                onError: fail
                report: stderr
                """, "full.yaml");
        Rule first = policy.rules().get(0);
        Rule second = policy.rules().get(1);
        assertAll(
                () -> assertEquals(32, policy.defaultBits()),
                () -> assertEquals(256, policy.defaultBlockSize(), "not given, so the built-in default"),
                () -> assertEquals(0, policy.defaultMinQuantizedSize()),
                () -> assertEquals(2, policy.rules().size()),
                () -> assertEquals(1, first.number()),
                () -> assertEquals(4, first.line()),
                () -> assertEquals("name \"a*\", layerType \"/Dense.*/\", optimizer \"Adam\", elements 1..9",
                        first.match().describe()),
                () -> assertEquals(new QuantizationSettings(8, 64, null), first.settings()),
                () -> assertEquals(new OptimizerOverrides(0.5, 0.0, 0.9, 1e-8, 0.0, 0.9), first.overrides()),
                () -> assertEquals(new QuantizationSettings(null, null, 10L), second.settings()),
                () -> assertEquals(OptimizerOverrides.NONE, second.overrides()),
                () -> assertEquals(List.of("emb", "/tok.*/"),
                        policy.stableEmbeddings().stream().map(NamePattern::text).toList()),
                () -> assertEquals(Policy.OnError.FAIL, policy.onError()),
                () -> assertEquals(new ReportTarget(ReportTarget.Kind.STDERR, null), policy.report()));
    }

    /** YAML 1.2 core schema: each of these is a number, not a string, whatever schema other tools assume. */
    @ParameterizedTest
    @CsvSource({"1e-4, 0.0001", "1.0e-4, 0.0001", "0.001, 0.001", "1E-4, 0.0001", "+2.5e+1, 25", "3, 3", ".5, 0.5"})
    void learningRateAcceptsEveryNumberNotation(String written, double expected) {
        Policy policy = PolicyParser.parse("rules:\n  - match: {name: x}\n    optimizer: {learningRate: " + written + "}\n",
                "numbers.yaml");
        assertEquals(expected, policy.rules().get(0).overrides().learningRate(), 1e-15);
    }

    @ParameterizedTest
    @CsvSource({"4096, 4096", "+4096, 4096", "0x1000, 4096", "0o10000, 4096"})
    void integersMayUseCoreSchemaNotations(String written, long expected) {
        Policy policy = PolicyParser.parse("defaults: {minQuantizedSize: " + written + "}\n", "integers.yaml");
        assertEquals(expected, policy.defaultMinQuantizedSize());
    }

    @ParameterizedTest
    @CsvSource({"log, LOG, ", "stderr, STDERR, ", "stdout, STDOUT, ", "file:reports/octet.txt, FILE, reports/octet.txt"})
    void readsReportTargets(String written, ReportTarget.Kind kind, String path) {
        ReportTarget report = PolicyParser.parse("report: " + written + "\n", "report.yaml").report();
        assertAll(
                () -> assertEquals(kind, report.kind()),
                () -> assertEquals(path == null ? null : Path.of(path), report.path()),
                () -> assertEquals(written, report.toString(), "round trip"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"\uFEFFdefaults: {}\n", "defaults: {}\r\n", "%YAML 1.2\n---\ndefaults: {}\n...\n"})
    void acceptsByteOrderMarkWindowsLineEndsAndDocumentMarkers(String text) {
        assertEquals(8, PolicyParser.parse(text, "variant.yaml").defaultBits());
    }

    @Test
    void readsAFileAndNamesItAsSource(@TempDir Path directory) throws IOException {
        Path file = Files.writeString(directory.resolve("policy.yaml"), "defaults:\n  blockSize: 1024\n");
        Policy policy = PolicyParser.parse(file);
        assertAll(
                () -> assertEquals(1024, policy.defaultBlockSize()),
                () -> assertEquals(file.toString(), policy.source()));
    }

    @Test
    void unsetMatchCriteriaAreNull() {
        Rule.Match match = PolicyParser.parse("rules: [{match: {minElements: 5}, bits: 32}]", "m.yaml")
                .rules().get(0).match();
        assertAll(
                () -> assertNull(match.name()),
                () -> assertNull(match.maxElements()),
                () -> assertEquals(5L, match.minElements()));
    }
}
