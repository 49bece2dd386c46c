package dev.octet.kernels.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.kernels.Golden;
import dev.octet.kernels.KernelPool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConformanceTest {

    @TempDir
    Path dir;

    /** A copy of the reference pair, with its JSON text and binary changed by the caller. */
    private ReferenceFile copyOfGolden(String jsonFrom, String jsonTo, int flipOffset) throws IOException {
        Path base = Golden.path();
        String json = Files.readString(base.resolveSibling(base.getFileName() + ".json"));
        byte[] bin = Files.readAllBytes(base.resolveSibling(base.getFileName() + ".bin"));
        if (flipOffset >= 0) {
            bin[flipOffset] = (byte) (bin[flipOffset] + 2);
        }
        Files.writeString(dir.resolve("ref.json"), json.replace(jsonFrom, jsonTo));
        Files.write(dir.resolve("ref.bin"), bin);
        return ReferenceFile.open(dir.resolve("ref"));
    }

    private static List<Conformance.Row> failures(ReferenceFile file) {
        return new Conformance(file, KernelPool.shared()).run().stream().filter(r -> !r.pass()).toList();
    }

    @Test
    void anOptimizerOctetDoesNotKnowFails() throws IOException {
        List<Conformance.Row> failed = failures(copyOfGolden("\"momentum\": {", "\"adafactor\": {", -1));
        assertEquals(1, failed.size());
        assertEquals("opt/adafactor", failed.get(0).subject());
        assertTrue(failed.get(0).detail().contains("unknown optimizer 'adafactor'"));
    }

    @Test
    void aReferenceCodeTwoStepsAwayFailsThatStep() throws IOException {
        ReferenceFile original = Golden.file();
        // The offset of opt/adam/step3/state1 in the .bin, from the index.
        Path base = Golden.path();
        String json = Files.readString(base.resolveSibling(base.getFileName() + ".json"));
        int at = json.indexOf("\"opt/adam/step3/state1\"");
        int offsetAt = json.indexOf("\"offset\":", at) + "\"offset\":".length();
        int offset = Integer.parseInt(json.substring(offsetAt, json.indexOf(',', offsetAt)).trim());
        assertTrue(original.has("opt/adam/step3/state1"));

        // Step 3 fails; step 4, which starts from the tampered state, may fail too.
        List<Conformance.Row> failed = failures(copyOfGolden("", "", offset + 1000));
        assertFalse(failed.isEmpty());
        assertEquals("opt/adam step 3", failed.get(0).subject());
        assertTrue(failed.get(0).detail().contains("max distance 2"), failed.get(0).detail());
    }

    @Test
    void aMissingFileIsNamed() {
        IOException e = assertThrows(IOException.class, () -> ReferenceFile.open(dir.resolve("nothing")));
        assertTrue(e.getMessage().contains("nothing.json"));
    }

    @Test
    void parsesTheReferencesTupleOfBetas() {
        float[] betas = Conformance.betas("(0.9, 0.999)");
        assertEquals(0.9f, betas[0]);
        assertEquals(0.999f, betas[1]);
        assertEquals(0f, Conformance.betas("(0.9, 0)")[1]);
        assertFalse(Conformance.betas("(0.5,)")[0] == 0f);
    }
}
