package dev.octet.adapters.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.kernels.OptimizerState;
import dev.octet.kernels.StatisticKind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PackedStateLayoutTest {

    private static final List<StatisticKind> ADAM = List.of(StatisticKind.SIGNED, StatisticKind.UNSIGNED);

    private static PackedStateLayout layout(int bitsOfW) {
        return new PackedStateLayout(List.of(
                new PackedStateLayout.Group("Adam", ADAM, List.of(
                        new PackedStateLayout.Param("0_W", 5000, bitsOfW, 256),
                        new PackedStateLayout.Param("0_b", 100, 32, 256))),
                PackedStateLayout.Group.foreign("Custom", "1_W", 7)));
    }

    private static ByteBuffer buffer(PackedStateLayout layout) {
        return ByteBuffer.allocate(Math.toIntExact(4 * layout.words())).order(ByteOrder.nativeOrder());
    }

    @Test
    void sizesFollowTheFormat() {
        // 8-bit: ceil(5000/4) code words + ceil(5000/256) absmax words per statistic; float32: n words.
        assertEquals(2 * (1250 + 20 + 100) + 7, layout(8).words());
        assertEquals(2 * (5000 + 100) + 7, layout(32).words());
        assertEquals(layout(32), layout(8).allFloat32());
    }

    @Test
    void convertsBetween8BitAndFloat32ParameterByParameter() {
        PackedStateLayout eight = layout(8);
        PackedStateLayout plain = eight.allFloat32();
        ByteBuffer plainWords = buffer(plain);
        Random random = new Random(1);
        float[][] expected = new float[2][5000];
        OptimizerState w = plain.groups().get(0).state(plain.groupWords(plainWords, 0), 0);
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < 5000; i++) {
                expected[k][i] = k == 0 ? (float) random.nextGaussian() : (float) Math.abs(random.nextGaussian());
            }
            w.encodeFrom(k, expected[k]);
        }
        plainWords.putInt(4 * Math.toIntExact(plain.groupStart(1)), 0x7FC00001); // a NaN pattern in foreign state

        ByteBuffer eightWords = buffer(eight);
        assertTrue(eight.convertFrom(plain, plainWords, eightWords).isEmpty());
        ByteBuffer back = buffer(plain);
        assertTrue(plain.convertFrom(eight, eightWords, back).isEmpty());

        OptimizerState roundTrip = plain.groups().get(0).state(plain.groupWords(back, 0), 0);
        float[] values = new float[5000];
        for (int k = 0; k < 2; k++) {
            roundTrip.decodeInto(k, values);
            for (int i = 0; i < 5000; i++) {
                float scale = 4f; // Gaussian values: the block absmax stays below this
                assertEquals(expected[k][i], values[i], 0.015f * scale, "statistic " + k + " element " + i);
            }
        }
        assertEquals(0x7FC00001, back.getInt(4 * Math.toIntExact(plain.groupStart(1))), "foreign words copied bit for bit");
    }

    @Test
    void reportsParametersTheSourceDoesNotHave() {
        PackedStateLayout other = new PackedStateLayout(List.of(new PackedStateLayout.Group("Adam", ADAM,
                List.of(new PackedStateLayout.Param("9_W", 5000, 32, 256)))));
        assertEquals(List.of("0_W", "0_b", "1_W"), layout(8).convertFrom(other, buffer(other), buffer(layout(8))));
    }

    @Test
    void theHeaderRoundTrips() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        layout(8).writeBlocks(new DataOutputStream(bytes));
        PackedStateLayout read = PackedStateLayout.readBlocks(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertEquals(layout(8), read);
    }

    @Test
    void theReportAddsUpAndSaysWhatWasSaved() {
        StartupReport report = new StartupReport("octet: test");
        report.add(new StartupReport.Row("0_W", new long[] {50, 100}, "Adam", "8-bit, block 256", "defaults -> 8-bit", 40_000, 10_160));
        report.add(new StartupReport.Row("0_b", new long[] {100}, "Adam", "float32", "defaults: 100 elements < 4,096", 800, 800));
        String text = report.render();
        assertTrue(text.contains("0_W        [50, 100]     5,000  Adam     8-bit, block 256        40,000       10,160  defaults -> 8-bit"),
                text);
        assertTrue(text.endsWith("total optimizer state: 40,800 bytes -> 10,960 bytes (73.1% saved)"), text);
        assertTrue(text.contains("CPU codec: " + dev.octet.kernels.CpuCodec.description()), text);
    }
}
