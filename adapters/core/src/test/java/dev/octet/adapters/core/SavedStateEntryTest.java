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
 * octet's saved state is read back only when it could have been written by octet: a damaged entry is one
 * IOException that says what is wrong, never an allocation of what a corrupt count asks for, an index
 * error, or state that poisons training.
 */
class SavedStateEntryTest {

    private static final PackedStateLayout LAYOUT = new PackedStateLayout(List.of(new PackedStateLayout.Block("Adam",
            List.of(StatisticKind.SIGNED, StatisticKind.UNSIGNED), List.of(
                    new PackedStateLayout.Param("0_W", 5000, 8, 256), new PackedStateLayout.Param("0_b", 100, 32, 0)))));

    private static ByteBuffer words(PackedStateLayout layout) {
        ByteBuffer words = ByteBuffer.allocate(Math.toIntExact(4 * layout.words())).order(ByteOrder.nativeOrder());
        var state = layout.blocks().get(0).state(layout.blockWords(words, 0), 0);
        float[] values = new float[5000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) Math.sin(i);
        }
        state.encodeFrom(0, values);
        return words;
    }

    private static byte[] entry(PackedStateLayout layout, Consumer<ByteBuffer> damage) throws IOException {
        ByteBuffer words = words(layout);
        damage.accept(words);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SavedStateEntry.write(new DataOutputStream(bytes), layout, words.asIntBuffer());
        return bytes.toByteArray();
    }

    private static SavedStateEntry.Content read(byte[] entry) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(entry));
        assertTrue(SavedStateEntry.isHeader(in.readUTF()));
        return SavedStateEntry.read(in);
    }

    private static String failure(byte[] entry) {
        return assertThrows(IOException.class, () -> read(entry)).getMessage();
    }

    @Test
    void whatIsWrittenIsReadBackBitForBit() throws IOException {
        byte[] bytes = entry(LAYOUT, w -> { });
        SavedStateEntry.Content content = read(bytes);
        assertEquals(LAYOUT, content.layout());
        assertEquals(words(LAYOUT), content.words());
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
        // The word count is the long before the words: change it.
        ByteBuffer b = ByteBuffer.wrap(good.clone());
        int countAt = good.length - 4 * Math.toIntExact(LAYOUT.words()) - 8;
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
            out.writeUTF(SavedStateEntry.HEADER);
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
        out.writeUTF(SavedStateEntry.HEADER);
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
