package dev.octet.policy;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The commented example policy that the README shows parses and decides as its comments say. */
class ExamplePolicyTest {

    private static final Policy EXAMPLE = PolicyParser.parse(PolicyFiles.EXAMPLE);

    @Test
    void parses() {
        assertAll(
                () -> assertEquals(8, EXAMPLE.defaultBits()),
                () -> assertEquals(256, EXAMPLE.defaultBlockSize()),
                () -> assertEquals(4096, EXAMPLE.defaultMinQuantizedSize()),
                () -> assertEquals(3, EXAMPLE.rules().size()),
                () -> assertEquals(Policy.OnError.WARN, EXAMPLE.onError()),
                () -> assertEquals(ReportTarget.LOG, EXAMPLE.report()),
                () -> assertEquals(PolicyFiles.EXAMPLE.toString(), EXAMPLE.source()));
    }

    @ParameterizedTest(name = "{0} of {2} ({1})")
    @CsvSource(delimiter = '|', textBlock = """
            # name     | layer   | layerType      | rows | cols | bits | blockSize | stable | reason
            embed_W    | embed   | EmbeddingLayer | 50000| 128  | 32   | 256       | true   | stable embedding "embed*" (line 41)
            0_b        | 0       | DenseLayer     | 1    | 256  | 32   | 256       | false  | defaults: 256 elements < minQuantizedSize 4,096
            dense1_W   | dense1  | DenseLayer     | 512  | 2048 | 8    | 2048      | false  | rule 2 (line 22: name "dense*_W", elements >= 1,000,000) -> 8-bit
            dense2_W   | dense2  | DenseLayer     | 256  | 256  | 8    | 256       | false  | defaults -> 8-bit
            out_W      | out     | OutputLayer    | 512  | 10   | 32   | 256       | false  | rule 1 (line 17: layerType "{OutputLayer,RnnOutputLayer}") -> 32-bit
            """)
    void decides(String name, String layer, String layerType, long rows, long cols,
                 int bits, int blockSize, boolean stableEmbedding, String reason) {
        Decision decision = EXAMPLE.decide(new ParameterInfo(name, new long[] {rows, cols}, layer, layerType, "Adam"));
        assertEquals(new Decision(bits, blockSize, OptimizerOverrides.NONE, stableEmbedding, reason), decision);
    }

    @Test
    void overridesAdamForSmallLstmRecurrentWeightsAndStillQuantizesThem() {
        Decision decision = EXAMPLE.decide(new ParameterInfo("lstm_RW", new long[] {32, 128}, "lstm", "LSTM", "Adam"));
        assertEquals(new Decision(8, 256, new OptimizerOverrides(1.0e-4, null, 0.95, null, null, null), false,
                "rule 3 (line 29: name \"/.*_RW/\", layerType \"LSTM\", optimizer \"Adam\") -> 8-bit"), decision);
    }
}
