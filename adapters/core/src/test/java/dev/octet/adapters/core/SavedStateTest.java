package dev.octet.adapters.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.kernels.StatisticKind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * octet's saved state, one format for DL4J and DJL, is read back only when it could have been written by
 * octet: a damaged entry is one IOException that says what is wrong, never an allocation of what a
 * corrupt count asks for, an index error, or state that poisons training. Files of the formats octet
 * wrote before (DL4J's entry and DJL's file, as the code before this format wrote them:
 * {@code src/test/resources/saved-state}) are still read.
 */
class SavedStateTest {

    private static final PackedStateLayout LAYOUT = new PackedStateLayout(List.of(new PackedStateLayout.Group("Adam",
            List.of(StatisticKind.SIGNED, StatisticKind.UNSIGNED), List.of(
                    new PackedStateLayout.Param("0_W", 5000, 8, 256), new PackedStateLayout.Param("0_b", 100, 32, 0)))));

    private static ByteBuffer words(PackedStateLayout layout) {
        ByteBuffer words = ByteBuffer.allocate(Math.toIntExact(4 * layout.words())).order(ByteOrder.nativeOrder());
        var state = layout.groups().get(0).state(layout.groupWords(words, 0), 0);
        float[] values = new float[5000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) Math.sin(i);
        }
        state.encodeFrom(0, values);
        return words;
    }

    private static List<SavedState.Parameter> shapes(PackedStateLayout layout) {
        return layout.groups().stream().flatMap(b -> b.params().stream())
                .map(p -> new SavedState.Parameter(new long[] {p.elements()}, 7)).toList();
    }

    private static byte[] entry(PackedStateLayout layout, Consumer<ByteBuffer> damage) throws IOException {
        ByteBuffer words = words(layout);
        damage.accept(words);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SavedState.write(bytes, new SavedState.Content(SavedState.DL4J, "", 0, layout, shapes(layout), words));
        return bytes.toByteArray();
    }

    /** An entry as octet's first DL4J format wrote it: header, layout, word count, words; no checksum. */
    private static byte[] version1Entry(PackedStateLayout layout, ByteBuffer words) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeUTF(SavedState.HEADER);
        layout.writeVersion1(out);
        out.writeLong(layout.words());
        for (int i = 0; i < layout.words(); i++) {
            out.writeInt(words.getInt(4 * i));
        }
        return bytes.toByteArray();
    }

    private static SavedState.Content read(byte[] entry) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(entry));
        assertTrue(SavedState.isHeader(in.readUTF()));
        return SavedState.readAfterHeader(in);
    }

    private static String failure(byte[] entry) {
        return assertThrows(IOException.class, () -> read(entry)).getMessage();
    }

    @Test
    void whatIsWrittenIsReadBackBitForBit() throws IOException {
        byte[] bytes = entry(LAYOUT, w -> { });
        SavedState.Content content = read(bytes);
        assertEquals(LAYOUT, content.layout());
        assertEquals(words(LAYOUT), content.words());
        assertEquals(shapes(LAYOUT), content.parameters());
        assertEquals(SavedState.DL4J, content.framework());
        SavedState.Content djl = new SavedState.Content(SavedState.DJL, "Adam", 12, LAYOUT,
                List.of(new SavedState.Parameter(new long[] {50, 100}, 12), new SavedState.Parameter(new long[] {100}, 11)),
                words(LAYOUT));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SavedState.write(out, djl);
        SavedState.Content back = SavedState.read(out.toByteArray(), optimizer -> null);
        assertEquals(djl.parameters(), back.parameters());
        assertEquals("Adam", back.optimizer());
        assertEquals(12, back.step());
        assertEquals(djl.words(), back.words());
    }

    @Test
    void aChangedByteIsCaughtByTheChecksum() throws IOException {
        byte[] bad = entry(LAYOUT, w -> { });
        bad[bad.length / 2] ^= 0x10;
        assertTrue(failure(bad).contains("does not match its checksum"), failure(bad));
    }

    @Test
    void theFirstDl4jFormatIsStillRead() throws IOException {
        SavedState.Content content = read(version1Entry(LAYOUT, words(LAYOUT)));
        assertEquals(LAYOUT, content.layout());
        assertEquals(words(LAYOUT), content.words());
    }

    /** {@code updaterState.bin} of a DL4J checkpoint the code before this format wrote (a small charlm, 3 steps). */
    @Test
    void aDl4jEntryWrittenByTheFirstFormatLoads() throws IOException {
        byte[] entry = resource("dl4j-v1-updaterState.bin");
        SavedState.Content content = read(entry);
        assertEquals(List.of("0_W", "1_W", "1_RW", "1_b", "2_W", "2_b"),
                content.layout().groups().stream().flatMap(b -> b.params().stream()).map(PackedStateLayout.Param::name).toList());
        assertEquals(11_840 / 4, content.layout().words(), "the start-up report's 11,840 bytes");
        assertEquals(26_880 / 4, content.float32().layout().words(), "and 26,880 float32");
        assertEquals(content.words(), SavedState.read(entry, optimizer -> null).words(), "read whole, the same");
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        SavedState.write(again, content);
        assertEquals(content.words(), read(again.toByteArray()).words(), "and in this format, the same words");
    }

    /** A DJL state file the code before this format wrote (a small charlm, Adam, 3 steps, 8-bit and float32). */
    @Test
    void aDjlFileWrittenByTheFirstFormatLoads() throws IOException {
        byte[] file = resource("djl-v1.params.octet");
        SavedState.Content content = SavedState.read(file,
                optimizer -> optimizer.equals("Adam") ? List.of(StatisticKind.SIGNED, StatisticKind.UNSIGNED) : null);
        assertEquals(SavedState.DJL, content.framework());
        assertEquals("Adam", content.optimizer());
        assertEquals(3, content.step());
        PackedStateLayout.Group block = content.layout().groups().get(0);
        assertEquals(List.of("01TrainableWordEmbedding_embedding", "03Linear_weight", "03Linear_bias", "05Linear_weight",
                "05Linear_bias"), block.params().stream().map(PackedStateLayout.Param::name).toList());
        assertEquals(List.of(32, 8, 32, 8, 32), block.params().stream().map(PackedStateLayout.Param::bits).toList());
        assertEquals(new SavedState.Parameter(new long[] {32, 16}, 3), content.parameters().get(1));
        assertEquals(11_712 / 4, content.layout().words(), "the start-up report's 11,712 bytes");
        float[] moments = new float[512];
        block.state(content.layout().groupWords(content.words(), 0), 1).decodeInto(0, moments);
        assertTrue(java.util.stream.IntStream.range(0, 512).anyMatch(i -> moments[i] != 0f), "trained moments");
        String unknown = assertThrows(IOException.class, () -> SavedState.read(file, optimizer -> null)).getMessage();
        assertTrue(unknown.contains("without naming their kinds"), unknown);
        byte[] bad = file.clone();
        bad[bad.length / 2] ^= 0x10;
        assertTrue(assertThrows(IOException.class, () -> SavedState.read(bad, optimizer -> List.of(StatisticKind.SIGNED,
                StatisticKind.UNSIGNED))).getMessage().contains("does not match its checksum"));
    }

    private static byte[] resource(String name) throws IOException {
        try (var in = SavedStateTest.class.getResourceAsStream("/saved-state/" + name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void scalesThatNoOctetStateHasAreRefused() throws IOException {
        // The absmax words of 0_W's first statistic follow its 1250 code words.
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, -1f}) {
            String message = failure(entry(LAYOUT, w -> w.putFloat(4 * 1250 + 4 * 3, bad)));
            assertTrue(message.contains("0_W (statistic 0, block 3) has scale " + bad), message);
        }
    }

    @Test
    void countsThatDisagreeOrFilesThatEndEarlyAreRefused() throws IOException {
        byte[] good = entry(LAYOUT, w -> { });
        // The word count is the long before the words (and the checksum after them): change it.
        ByteBuffer b = ByteBuffer.wrap(good.clone());
        int countAt = good.length - 8 - 4 * Math.toIntExact(LAYOUT.words()) - 8;
        b.putLong(countAt, LAYOUT.words() + 1);
        assertTrue(failure(b.array()).contains("declares " + (LAYOUT.words() + 1) + " words where its layout needs"));
        b.putLong(countAt, Long.MAX_VALUE);
        assertTrue(failure(b.array()).contains("words where its layout needs"));
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 10);
        assertTrue(failure(truncated).contains("ends early"));
    }

    @Test
    void layoutsThatNoOctetWritesAreRefusedBeforeAnythingIsAllocated() throws IOException {
        for (int[] damage : new int[][] {{-1}, {Integer.MAX_VALUE}}) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeUTF(SavedState.HEADER);
            out.writeUTF("octet packed optimizer state");
            out.writeInt(1);
            out.writeInt(damage[0]);
            assertTrue(failure(bytes.toByteArray()).contains("the entry is damaged"));
        }
        String badKind = failure(rewrite(out -> {
            out.writeInt(1);
            out.writeUTF("Adam");
            out.writeInt(1);
            out.writeUTF("BOGUS");
        }));
        assertTrue(badKind.contains("kind 'BOGUS'"), badKind);
        String badBlock = failure(rewrite(out -> {
            out.writeInt(1);
            out.writeUTF("Adam");
            out.writeInt(0);
            out.writeInt(1);
            out.writeUTF("0_W");
            out.writeLong(100);
            out.writeInt(8);
            out.writeInt(100);
        }));
        assertTrue(badBlock.contains("0_W: block size must be a power of two"), badBlock);
        String negative = failure(rewrite(out -> {
            out.writeInt(1);
            out.writeUTF("Adam");
            out.writeInt(0);
            out.writeInt(1);
            out.writeUTF("0_W");
            out.writeLong(-5);
            out.writeInt(32);
            out.writeInt(0);
        }));
        assertTrue(negative.contains("0_W with -5 elements"), negative);
    }

    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] rewrite(Body body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeUTF(SavedState.HEADER);
        out.writeUTF("octet packed optimizer state");
        out.writeInt(1);
        body.write(out);
        out.writeLong(0);
        return bytes.toByteArray();
    }

    @Test
    void safeFilesReplaceWholeOrNotAtAllAndNeverWriteThroughALink(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("state.bin");
        Files.writeString(target, "old");
        assertThrows(IOException.class, () -> SafeFiles.replace(target, out -> {
            out.write("half".getBytes());
            throw new IOException("disk full");
        }));
        assertEquals("old", Files.readString(target), "a failed write leaves the file as it was");
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "and no temporary file behind");
        }
        Path victim = dir.resolve("victim.txt");
        Files.writeString(victim, "precious");
        Path planted = dir.resolve("planted.bin");
        Files.createSymbolicLink(planted, victim);
        SafeFiles.replace(planted, out -> out.write("new".getBytes()));
        assertEquals("precious", Files.readString(victim), "the link is replaced, its target untouched");
        assertEquals("new", Files.readString(planted));
        Path report = dir.resolve("report.txt");
        Files.createSymbolicLink(report, victim);
        assertThrows(IOException.class, () -> SafeFiles.append(report, "report"));
        assertEquals("precious", Files.readString(victim));
        SafeFiles.append(dir.resolve("fresh.txt"), "a");
        SafeFiles.append(dir.resolve("fresh.txt"), "b");
        assertEquals("ab", Files.readString(dir.resolve("fresh.txt")));
    }
}
