package dev.octet.adapters.core;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/**
 * octet's state as it stands in a DL4J model file's {@code updaterState.bin} entry: a header string that
 * DL4J, reading the file without octet, takes for its array header and rejects with octet's explanation;
 * the {@link PackedStateLayout}; the number of 32-bit words; the words, bit for bit. Written and read
 * here alone (the DL4J adapter on save and restore, {@code convert} without DL4J), and checked on
 * reading: a count that disagrees with the layout, an absmax that is not a finite number >= 0, or a
 * file that ends early is an {@link IOException} saying what is wrong, before anything is allocated or
 * restored.
 */
public final class SavedStateEntry {

    /** What DL4J without octet reports, as the "allocation mode" it could not parse. */
    public static final String HEADER = "octet: this checkpoint holds 8-bit optimizer state. Load it with the "
            + "octet agent and its DL4J module on (-javaagent:octet-agent.jar, without -Doctet.dl4j.enabled=false), or"
            + " turn it into a plain DL4J checkpoint with java -jar octet-agent.jar convert <in.zip> <out.zip>";
    /** The same header as octet wrote it before it named the module switch; still read. */
    private static final String HEADER_BEFORE = "octet: this checkpoint holds 8-bit optimizer state. Load it with the "
            + "octet agent (-javaagent:octet-agent.jar), or turn it into a plain DL4J checkpoint with "
            + "java -jar octet-agent.jar convert <in.zip> <out.zip>";

    /** The layout and the state's words (native order). */
    public record Content(PackedStateLayout layout, ByteBuffer words) {
    }

    private SavedStateEntry() {
    }

    /** Whether an entry that starts with the string {@code head} is octet's. */
    public static boolean isHeader(String head) {
        return HEADER.equals(head) || HEADER_BEFORE.equals(head);
    }

    public static void write(DataOutput out, PackedStateLayout layout, IntBuffer words) throws IOException {
        out.writeUTF(HEADER);
        layout.write(out);
        out.writeLong(words.capacity());
        for (int i = 0; i < words.capacity(); i++) {
            out.writeInt(words.get(i));
        }
    }

    /** Reads what follows the header (already read and recognised by {@link #isHeader}), checked. */
    public static Content read(DataInput in) throws IOException {
        try {
            PackedStateLayout layout = PackedStateLayout.read(in, false);
            long count = in.readLong();
            if (count != layout.words()) {
                throw new IOException("octet's optimizer state declares " + count + " words where its layout needs "
                        + layout.words() + "; the entry is damaged");
            }
            ByteBuffer words = ByteBuffer.allocate(Math.toIntExact(4 * count)).order(ByteOrder.nativeOrder());
            for (int i = 0; i < count; i++) {
                words.putInt(4 * i, in.readInt());
            }
            checkScales(layout, words);
            return new Content(layout, words);
        } catch (EOFException e) {
            throw new IOException("octet's optimizer state ends early: the file is truncated", e);
        }
    }

    /** Every 8-bit parameter's absmax words must be finite numbers >= 0: anything else would poison training. */
    private static void checkScales(PackedStateLayout layout, ByteBuffer words) throws IOException {
        for (int b = 0; b < layout.blocks().size(); b++) {
            PackedStateLayout.Block block = layout.blocks().get(b);
            if (!block.managed()) {
                continue;
            }
            ByteBuffer blockWords = layout.blockWords(words, b);
            for (int p = 0; p < block.params().size(); p++) {
                PackedStateLayout.Param param = block.params().get(p);
                if (!param.quantized()) {
                    continue;
                }
                for (int s = 0; s < block.kinds().size(); s++) {
                    long start = block.statisticStart(p, s) + param.codeWords();
                    FloatBuffer absmax = PackedStateLayout.slice(blockWords, start, param.absmaxWords()).asFloatBuffer();
                    for (int i = 0; i < absmax.capacity(); i++) {
                        float a = absmax.get(i);
                        if (!(a >= 0f) || a > Float.MAX_VALUE) {
                            throw new IOException("octet's optimizer state of " + param.name() + " (statistic " + s
                                    + ", block " + i + ") has scale " + a + ", which no state octet writes has; the entry"
                                    + " is damaged");
                        }
                    }
                }
            }
        }
    }
}
