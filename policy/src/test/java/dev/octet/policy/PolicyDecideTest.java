package dev.octet.policy;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The semantics of {@link Policy#decide}: first matching rule, defaults, minimum size, stable embeddings. */
class PolicyDecideTest {

    private static final Policy POLICY = PolicyParser.parse("""
            defaults:
              blockSize: 512
            rules:
              - match: {name: "*_b"}
                bits: 32
              - match: {layerType: DenseLayer, maxElements: 100000}
                minQuantizedSize: 0
              - match: {layerType: DenseLayer}
                blockSize: 1024
                minQuantizedSize: 1000000
              - match: {layerType: EmbeddingLayer}
                blockSize: 2048
                optimizer: {learningRate: 0.01}
            stableEmbeddings: ["embed*", "/tok[0-9]/"]
            """, "decide.yaml");

    private static ParameterInfo parameter(String name, String layerType, long... shape) {
        return new ParameterInfo(name, shape, name.substring(0, name.indexOf('_')), layerType, "Adam");
    }

    @Test
    void defaultsQuantizeLargeTensors() {
        Decision decision = Policy.defaults().decide(parameter("conv_W", "ConvolutionLayer", 64, 3, 5, 5));
        assertEquals(new Decision(8, 256, OptimizerOverrides.NONE, false, "defaults -> 8-bit"), decision);
    }

    @Test
    void defaultsKeepSmallTensorsAt32Bits() {
        Decision decision = Policy.defaults().decide(parameter("conv_W", "ConvolutionLayer", 1024));
        assertEquals(new Decision(32, 256, OptimizerOverrides.NONE, false,
                "defaults: 1,024 elements < minQuantizedSize 4,096"), decision);
    }

    @Test
    void theExplanationNamesTheOptimizerOverrides() {
        Decision embedding = POLICY.decide(parameter("words_W", "EmbeddingLayer", 5000, 64));
        assertEquals(embedding.reason() + "; optimizer: learningRate 0.01", embedding.explanation());
        Decision plain = POLICY.decide(parameter("dense_W", "DenseLayer", 100, 1000));
        assertEquals(plain.reason(), plain.explanation());
        assertEquals("learningRate 1E-30, beta2 0.95, weightDecay 0",
                new OptimizerOverrides(1e-30, null, 0.95, null, 0.0, null).describe());
    }

    @Test
    void scalarHasOneElement() {
        assertEquals("defaults: 1 elements < minQuantizedSize 4,096",
                Policy.defaults().decide(parameter("norm_g", "LayerNorm")).reason());
    }

    @ParameterizedTest(name = "{0} {1} {2}x{3}")
    @CsvSource(delimiter = '|', textBlock = """
            # name    | layerType      | rows  | cols | bits | blockSize | reason
            dense_b   | DenseLayer     | 1     | 10   | 32   | 512       | rule 1 (line 4: name "*_b") -> 32-bit
            dense_W   | DenseLayer     | 100   | 1000 | 8    | 512       | rule 2 (line 6: layerType "DenseLayer", elements <= 100,000) -> 8-bit
            dense_W   | DenseLayer     | 2     | 3    | 8    | 512       | rule 2 (line 6: layerType "DenseLayer", elements <= 100,000) -> 8-bit
            dense_W   | DenseLayer     | 1000  | 101  | 32   | 1024      | rule 3 (line 8: layerType "DenseLayer"): 101,000 elements < minQuantizedSize 1,000,000
            dense_W   | DenseLayer     | 1000  | 1000 | 8    | 1024      | rule 3 (line 8: layerType "DenseLayer") -> 8-bit
            lstm_W    | LSTM           | 1000  | 1000 | 8    | 512       | defaults -> 8-bit
            lstm_W    | LSTM           | 10    | 10   | 32   | 512       | defaults: 100 elements < minQuantizedSize 4,096
            """)
    void firstMatchingRuleDecidesAndDefaultsFillIn(String name, String layerType, long rows, long cols,
                                                   int bits, int blockSize, String reason) {
        Decision decision = POLICY.decide(parameter(name, layerType, rows, cols));
        assertEquals(new Decision(bits, blockSize, OptimizerOverrides.NONE, false, reason), decision);
    }

    @Test
    void stableEmbeddingIs32BitButKeepsTheMatchingRulesBlockSizeAndOverrides() {
        Decision decision = POLICY.decide(parameter("embed_W", "EmbeddingLayer", 50000, 128));
        assertEquals(new Decision(32, 2048, new OptimizerOverrides(0.01, null, null, null, null, null), true,
                "stable embedding \"embed*\" (line 14), settings from rule 4 (line 11: layerType \"EmbeddingLayer\")"),
                decision);
    }

    @Test
    void stableEmbeddingWithoutMatchingRuleUsesDefaults() {
        Decision decision = POLICY.decide(new ParameterInfo("W", new long[] {10, 8}, "tok7", "Embedding", "Adam"));
        assertEquals(new Decision(32, 512, OptimizerOverrides.NONE, true, "stable embedding \"/tok[0-9]/\" (line 14)"),
                decision);
    }

    @Test
    void isStableEmbeddingNamesThePattern() {
        assertAll(
                () -> assertEquals(Optional.of("embed*"), POLICY.isStableEmbedding("embedding")),
                () -> assertEquals(Optional.of("/tok[0-9]/"), POLICY.isStableEmbedding("tok3")),
                () -> assertEquals(Optional.empty(), POLICY.isStableEmbedding("tok33")),
                () -> assertEquals(Optional.empty(), POLICY.isStableEmbedding(null)));
    }

    @Test
    void unknownLayerTypeOrOptimizerMatchesNoCriterionOnIt() {
        Policy policy = PolicyParser.parse("rules:\n  - match: {optimizer: \"*\"}\n    bits: 32\n", "unknown.yaml");
        ParameterInfo withoutOptimizer = new ParameterInfo("x_W", new long[] {5000}, null, null, null);
        assertEquals("defaults -> 8-bit", policy.decide(withoutOptimizer).reason());
    }

    @Test
    void elementBoundsAreInclusive() {
        Policy policy = PolicyParser.parse("rules: [{match: {minElements: 10, maxElements: 20}, bits: 32}]", "b.yaml");
        assertAll(
                () -> assertFalse(policy.rules().get(0).matches(new ParameterInfo("p", new long[] {9}, null, null, null))),
                () -> assertTrue(policy.rules().get(0).matches(new ParameterInfo("p", new long[] {10}, null, null, null))),
                () -> assertTrue(policy.rules().get(0).matches(new ParameterInfo("p", new long[] {4, 5}, null, null, null))),
                () -> assertFalse(policy.rules().get(0).matches(new ParameterInfo("p", new long[] {21}, null, null, null))));
    }
}
