package dev.octet.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.adapters.core.PackedStateLayout;
import dev.octet.adapters.core.SavedState;
import dev.octet.kernels.StatisticKind;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code convert} turns octet's state into DL4J's own (and a DJL state file into all-float32 state), reads
 * the files octet's earlier format wrote, and never destroys a file: not its input (an
 * output that is the input, or a link to it, is refused), not an existing output (a failed conversion
 * leaves it as it was), and every failure is one line that says what is wrong.
 */
class CheckpointConverterTest {

    private static final PackedStateLayout LAYOUT = new PackedStateLayout(List.of(new PackedStateLayout.Group("Adam",
            List.of(StatisticKind.SIGNED, StatisticKind.UNSIGNED), List.of(new PackedStateLayout.Param("0_W", 600, 8, 256)))));

    @TempDir
    Path dir;

    /** A DL4J model file as far as convert reads it: a parameters entry's header and octet's state entry. */
    private Path model(String name, float scale) throws IOException {
        return model(name, scale, "{}");
    }

    private Path model(String name, float scale, String configuration) throws IOException {
        ByteBuffer words = ByteBuffer.allocate(Math.toIntExact(4 * LAYOUT.words())).order(ByteOrder.nativeOrder());
        float[] values = new float[600];
        for (int i = 0; i < values.length; i++) {
            values[i] = (i % 7 - 3) * 0.25f;
        }
        LAYOUT.groups().get(0).state(LAYOUT.groupWords(words, 0), 0).encodeFrom(0, values);
        words.putFloat(4 * 150, scale);  // statistic 0's first absmax, after 150 code words
        Path file = dir.resolve(name);
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
            zip.putNextEntry(new ZipEntry("configuration.json"));
            zip.write(configuration.getBytes());
            zip.putNextEntry(new ZipEntry("coefficients.bin"));
            DataOutputStream params = new DataOutputStream(zip);
            params.writeUTF("MIXED_DATA_TYPES");
            params.writeLong(6);
            params.writeUTF("LONG");
            for (long v : new long[] {1, 10, 1, 8192, 1, 'c'}) {
                params.writeLong(v);
            }
            params.flush();
            zip.putNextEntry(new ZipEntry("updaterState.bin"));
            ByteArrayOutputStream entry = new ByteArrayOutputStream();
            SavedState.write(entry, new SavedState.Content(SavedState.DL4J, "", 0, LAYOUT,
                    List.of(new SavedState.Parameter(new long[] {600}, 0)), words));
            zip.write(entry.toByteArray());
        }
        return file;
    }

    @Test
    void writesDl4jsOwnFloat32State() throws IOException {
        Path in = model("octet.zip", 0.75f);
        Path out = dir.resolve("plain.zip");
        assertTrue(CheckpointConverter.convert(in, out).contains("plain DL4J model file"));
        try (ZipFile zip = new ZipFile(out.toFile());
                DataInputStream state = new DataInputStream(zip.getInputStream(zip.getEntry("updaterState.bin")))) {
            assertEquals("MIXED_DATA_TYPES", state.readUTF());
            assertEquals(6, state.readLong());
            assertEquals("LONG", state.readUTF());
            long[] info = new long[6];
            for (int i = 0; i < 6; i++) {
                info[i] = state.readLong();
            }
            assertArrayEquals(new long[] {1, 1200, 1, 8192, 1, 'c'}, info, "rank 1, 2 x 600 floats, the parameters' extras");
            state.readUTF();
            assertEquals(1200, state.readLong());
            assertEquals("FLOAT", state.readUTF());
            assertEquals(-0.75f, state.readFloat(), 0.0075f, "the 8-bit value, decoded (the signed map ends at -0.993)");
            assertTrue(zip.getEntry("configuration.json") != null);
        }
    }

    /** A DL4J checkpoint the code before octet's one saved-state format wrote (a small charlm, 3 steps). */
    @Test
    void convertsACheckpointOfTheFirstFormat() throws IOException {
        Path in = dir.resolve("v1.zip");
        try (InputStream fixture = getClass().getResourceAsStream("/dl4j-v1-checkpoint.zip")) {
            Files.copy(fixture, in);
        }
        Path out = dir.resolve("plain.zip");
        assertTrue(CheckpointConverter.convert(in, out).contains("plain DL4J model file"));
        try (ZipFile zip = new ZipFile(out.toFile());
                DataInputStream state = new DataInputStream(zip.getInputStream(zip.getEntry("updaterState.bin")))) {
            state.readUTF();
            long[] info = new long[Math.toIntExact(state.readLong())];
            state.readUTF();
            for (int i = 0; i < info.length; i++) {
                info[i] = state.readLong();
            }
            assertEquals(26_880 / 4, info[1], "DL4J's float32 state of the job's start-up report: 26,880 bytes");
        }
    }

    /** A DJL state file: the same optimizer, step and counts, every statistic float32, the values decoded. */
    @Test
    void convertsADjlStateFileToFloat32() throws IOException {
        ByteBuffer words = ByteBuffer.allocate(Math.toIntExact(4 * LAYOUT.words())).order(ByteOrder.nativeOrder());
        float[] values = new float[600];
        for (int i = 0; i < values.length; i++) {
            values[i] = (i % 7 - 3) * 0.25f;
        }
        LAYOUT.groups().get(0).state(LAYOUT.groupWords(words, 0), 0).encodeFrom(0, values);
        Path in = dir.resolve("model-0001.params.octet");
        SavedState.writeFile(in, new SavedState.Content(SavedState.DJL, "Adam", 9, LAYOUT,
                List.of(new SavedState.Parameter(new long[] {20, 30}, 9)), words));
        Path out = dir.resolve("plain.params.octet");
        assertEquals("wrote " + out + ": octet's DJL optimizer state of Adam with every statistic float32",
                CheckpointConverter.convert(in, out));
        SavedState.Content plain = SavedState.readFile(out, optimizer -> null);
        assertEquals(32, plain.layout().groups().get(0).params().get(0).bits());
        assertEquals(9, plain.step());
        assertEquals(new SavedState.Parameter(new long[] {20, 30}, 9), plain.parameters().get(0));
        assertEquals(-0.75f, plain.words().getFloat(0), 0.0075f);
    }

    /** A DJL file of the first format does not name its statistics' kinds: convert says what to do instead. */
    @Test
    void aDjlFileOfTheFirstFormatIsRefusedWithWhatToDo() throws IOException {
        Path in = dir.resolve("v1.params.octet");
        try (InputStream fixture = getClass().getResourceAsStream("/djl-v1.params.octet")) {
            Files.copy(fixture, in);
        }
        String message = assertThrows(IOException.class, () -> CheckpointConverter.convert(in, dir.resolve("out"))).getMessage();
        assertTrue(message.contains("restore it under the agent with the same optimizer and save it again"), message);
    }

    @Test
    void neverWritesOverItsInput() throws IOException {
        Path in = model("octet.zip", 0.75f);
        byte[] before = Files.readAllBytes(in);
        assertTrue(assertThrows(IOException.class, () -> CheckpointConverter.convert(in, in)).getMessage()
                .contains("itself; write the plain checkpoint to another file"));
        Path link = dir.resolve("link.zip");
        Files.createSymbolicLink(link, in);
        assertThrows(IOException.class, () -> CheckpointConverter.convert(in, link));
        assertThrows(IOException.class, () -> CheckpointConverter.convert(link, in));
        assertArrayEquals(before, Files.readAllBytes(in));
    }

    @Test
    void aFailedConversionLeavesAnExistingOutputAsItWas() throws IOException {
        Path in = model("damaged.zip", Float.NaN);
        Path out = dir.resolve("plain.zip");
        Files.writeString(out, "an earlier conversion");
        IOException e = assertThrows(IOException.class, () -> CheckpointConverter.convert(in, out));
        assertTrue(e.getMessage().contains("0_W (statistic 0, block 0) has scale NaN"), e.getMessage());
        assertEquals("an earlier conversion", Files.readString(out));
        try (var files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void aModelWithStableEmbeddingsIsRefusedWithWhatToDoInstead() throws IOException {
        Path in = model("stable.zip", 0.75f, "{\"activationFn\":{\"@class\":\"dev.octet.adapters.dl4j.StableEmbeddingActivation\"}}");
        Path out = dir.resolve("plain.zip");
        String message = assertThrows(IOException.class, () -> CheckpointConverter.convert(in, out)).getMessage();
        assertTrue(message.contains("has stable embeddings") && message.contains("Load it with the agent"), message);
        assertTrue(!Files.exists(out));
    }

    @Test
    void failuresSayWhatIsWrong() throws IOException {
        Path text = Files.writeString(dir.resolve("notes.zip"), "not a zip");
        String notZip = OctetAgent.describe(assertThrows(IOException.class,
                () -> CheckpointConverter.convert(text, dir.resolve("out.zip"))));
        assertTrue(notZip.contains("notes.zip is not a DL4J model file"), notZip);
        String missing = OctetAgent.describe(assertThrows(IOException.class,
                () -> CheckpointConverter.convert(dir.resolve("nothing.zip"), dir.resolve("out.zip"))));
        assertTrue(missing.contains("nothing.zip is not a file"), missing);
        Path in = model("octet.zip", 0.75f);
        String noFolder = OctetAgent.describe(assertThrows(IOException.class,
                () -> CheckpointConverter.convert(in, dir.resolve("no/such/folder/out.zip"))));
        assertTrue(noFolder.startsWith("no such file: ") && noFolder.contains("no/such/folder"), noFolder);
        assertTrue(assertThrows(IOException.class, () -> CheckpointConverter.convert(in, dir)).getMessage()
                .contains("is a folder"));
    }
}
