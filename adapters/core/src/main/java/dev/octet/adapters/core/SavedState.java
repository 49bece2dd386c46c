package dev.octet.adapters.core;

import dev.octet.kernels.Float32State;
import dev.octet.kernels.OptimizerState;
import dev.octet.kernels.QuantizedState;
import dev.octet.kernels.StatisticKind;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * octet's saved optimizer state, one format for every framework, written and read here alone: in a DL4J
 * model file's {@code updaterState.bin} entry (the DL4J adapter on save and restore), in the file DJL's
 * adapter writes beside a model ({@code name-0001.params.octet}), and by {@code convert}, which needs no
 * framework.
 *
 * <p>The format (version 2): the {@link #HEADER} string (DL4J, reading a model file without octet, takes it
 * for its array header and fails with octet's explanation); the layout's magic string and the format
 * version; then, covered by a CRC-32 written after them, the framework, the optimizer, the step count,
 * the {@link PackedStateLayout} (update groups, statistics, parameters with their elements, bits and block size),
 * per parameter its shape and update count, the number of 32-bit words and the words, bit for bit (8-bit
 * codes four to a word, then the absmax words, or the float32 values).
 *
 * <p>Everything is checked on reading, before anything is restored: a count that disagrees with the
 * layout, an absmax that is not a finite number >= 0, a checksum that does not match, or a file that ends
 * early is an {@link IOException} saying what is wrong. The two formats octet wrote before, DL4J's entry
 * (no checksum, no shapes) and DJL's file (codes a byte each, its own checksum), are still read.
 */
public final class SavedState {

    /** What DL4J without octet reports, as the "allocation mode" it could not parse. */
    public static final String HEADER = "octet: this checkpoint holds 8-bit optimizer state. Load it with the "
            + "octet agent and its DL4J module on (-javaagent:octet-agent.jar, without -Doctet.dl4j.enabled=false), or"
            + " turn it into a plain DL4J checkpoint with java -jar octet-agent.jar convert <in.zip> <out.zip>";
    /** The same header as octet wrote it before it named the module switch; still read. */
    private static final String HEADER_BEFORE = "octet: this checkpoint holds 8-bit optimizer state. Load it with the "
            + "octet agent (-javaagent:octet-agent.jar), or turn it into a plain DL4J checkpoint with "
            + "java -jar octet-agent.jar convert <in.zip> <out.zip>";
    /** How the DJL state files of the first format began. */
    private static final String DJL_VERSION_1_MAGIC = "octet DJL optimizer state";
    private static final int FORMAT_VERSION = 2;
    /** Words are written and checksummed in chunks of this many bytes. */
    private static final int CHUNK = 1 << 16;

    /**
     * The class DL4J's configuration of a model with stable embeddings names (octet's activation, a class
     * of the DL4J adapter): {@code convert} refuses such a model, which DL4J alone cannot compute. Here, not
     * in the agent, so that the agent names no class of a helper (the DL4J adapter's tests check the name).
     */
    public static final String DL4J_STABLE_EMBEDDING_ACTIVATION = "dev.octet.adapters.dl4j.StableEmbeddingActivation";

    public static final String DL4J = "DL4J";
    public static final String DJL = "DJL";

    /** One parameter's shape and the number of updates the framework counted for it (0 where it counts none). */
    public record Parameter(long[] shape, long updates) {

        public Parameter {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Parameter p && Arrays.equals(shape, p.shape) && updates == p.updates;
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(shape) + Long.hashCode(updates);
        }
    }

    /**
     * Saved state: which framework wrote it, its optimizer ("" where the layout's blocks name the updaters,
     * as DL4J's do), the framework's step count, the layout, one {@link Parameter} per parameter of the
     * layout in its order, and the words (native order).
     */
    public record Content(String framework, String optimizer, long step, PackedStateLayout layout,
            List<Parameter> parameters, ByteBuffer words) {

        public Content {
            parameters = List.copyOf(parameters);
            if (parameters.size() != layout.paramCount()) {
                throw new IllegalArgumentException(parameters.size() + " parameters for a layout of " + layout.paramCount());
            }
            if (words.capacity() != 4 * layout.words()) {
                throw new IllegalArgumentException(words.capacity() / 4 + " words for a layout of " + layout.words());
            }
        }

        /** The same state with every parameter float32 (8-bit statistics decoded): what the framework itself keeps. */
        public Content float32() {
            PackedStateLayout plain = layout.allFloat32();
            ByteBuffer to = allocate(plain.words());
            plain.convertFrom(layout, words, to);
            return new Content(framework, optimizer, step, plain, parameters, to);
        }
    }

    private SavedState() {
    }

    /** Zeroed words for {@code count} words, native order. */
    public static ByteBuffer allocate(long count) {
        return ByteBuffer.allocate(Math.toIntExact(4 * count)).order(ByteOrder.nativeOrder());
    }

    /** Whether {@code head}, the first string of a DL4J state entry, is octet's. */
    public static boolean isHeader(String head) {
        return HEADER.equals(head) || HEADER_BEFORE.equals(head);
    }

    /** Writes {@code content}, header first, to {@code out} (not closed). */
    public static void write(OutputStream out, Content content) throws IOException {
        DataOutputStream head = new DataOutputStream(unclosed(out));
        head.writeUTF(HEADER);
        head.writeUTF(PackedStateLayout.LAYOUT_MAGIC);
        head.writeInt(FORMAT_VERSION);
        head.flush();
        CRC32 crc = new CRC32();
        DataOutputStream body = new DataOutputStream(new CheckedOutputStream(unclosed(out), crc));
        body.writeUTF(content.framework());
        body.writeUTF(content.optimizer());
        body.writeLong(content.step());
        content.layout().writeBlocks(body);
        for (Parameter p : content.parameters()) {
            body.writeInt(p.shape.length);
            for (long d : p.shape) {
                body.writeLong(d);
            }
            body.writeLong(p.updates());
        }
        long count = content.layout().words();
        body.writeLong(count);
        byte[] chunk = new byte[CHUNK];
        ByteBuffer big = ByteBuffer.wrap(chunk); // ints big-endian, as DataOutput writes them
        for (long i = 0; i < count; ) {
            int n = (int) Math.min(CHUNK / 4, count - i);
            for (int j = 0; j < n; j++) {
                big.putInt(4 * j, content.words().getInt(Math.toIntExact(4 * (i + j))));
            }
            body.write(chunk, 0, 4 * n);
            i += n;
        }
        body.flush();
        head.writeLong(crc.getValue());
        head.flush();
    }

    /** Writes {@code content} to {@code file}, whole or not at all ({@link SafeFiles#replace}). */
    public static void writeFile(Path file, Content content) throws IOException {
        SafeFiles.replace(file, out -> write(out, content));
    }

    /**
     * Reads what follows a DL4J entry's header (already read and recognised by {@link #isHeader}), checked:
     * this format, or DL4J's first one.
     */
    public static Content readAfterHeader(InputStream stream) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        try {
            if (!PackedStateLayout.LAYOUT_MAGIC.equals(in.readUTF())) {
                throw new IOException("not octet optimizer state");
            }
            int version = in.readInt();
            if (version == 1) {
                return readDl4jVersion1(in);
            }
            if (version != FORMAT_VERSION) {
                throw new IOException("octet optimizer state format " + version + " is newer than this octet reads ("
                        + FORMAT_VERSION + "); use a newer octet");
            }
            return readVersion2(in);
        } catch (EOFException e) {
            throw new IOException("octet's optimizer state ends early: the file is truncated", e);
        }
    }

    /**
     * Reads a whole state file (DJL's, or a DL4J entry's bytes), checked. {@code kindsOf} names the
     * statistics' kinds of an optimizer, for DJL files of the first format, which do not record them (null
     * where unknown: such a file is refused).
     */
    public static Content read(byte[] all, Function<String, List<StatisticKind>> kindsOf) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(all));
        String head;
        try {
            head = in.readUTF();
        } catch (IOException e) {
            throw new IOException("not octet optimizer state", e);
        }
        if (isHeader(head)) {
            Content content = readAfterHeader(in);
            if (in.available() != 0) {
                throw new IOException("octet's optimizer state has " + in.available() + " bytes more than it describes");
            }
            return content;
        }
        if (DJL_VERSION_1_MAGIC.equals(head)) {
            return readDjlVersion1(all, kindsOf);
        }
        throw new IOException("not octet optimizer state");
    }

    public static Content readFile(Path file, Function<String, List<StatisticKind>> kindsOf) throws IOException {
        return read(Files.readAllBytes(file), kindsOf);
    }

    private static Content readVersion2(DataInputStream raw) throws IOException {
        CRC32 crc = new CRC32();
        DataInputStream in = new DataInputStream(new CheckedInputStream(raw, crc));
        String framework = in.readUTF();
        String optimizer = in.readUTF();
        long step = in.readLong();
        PackedStateLayout layout = PackedStateLayout.readBlocks(in);
        List<Parameter> parameters = new ArrayList<>();
        for (int p = 0; p < layout.paramCount(); p++) {
            long[] shape = new long[PackedStateLayout.count(in.readInt(), 32, "dimensions of a parameter")];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = in.readLong();
            }
            parameters.add(new Parameter(shape, in.readLong()));
        }
        ByteBuffer words = readWords(in, layout);
        long computed = crc.getValue();
        if (raw.readLong() != computed) {
            throw new IOException("octet's optimizer state does not match its checksum; the file is damaged");
        }
        checkScales(layout, words);
        return new Content(framework, optimizer, step, layout, parameters, words);
    }

    /** The word count, checked against the layout, then the words. */
    private static ByteBuffer readWords(DataInputStream in, PackedStateLayout layout) throws IOException {
        long count = in.readLong();
        if (count != layout.words()) {
            throw new IOException("octet's optimizer state declares " + count + " words where its layout needs "
                    + layout.words() + "; the entry is damaged");
        }
        ByteBuffer words = allocate(count);
        byte[] chunk = new byte[CHUNK];
        ByteBuffer big = ByteBuffer.wrap(chunk);
        for (long i = 0; i < count; ) {
            int n = (int) Math.min(CHUNK / 4, count - i);
            in.readFully(chunk, 0, 4 * n);
            for (int j = 0; j < n; j++) {
                words.putInt(Math.toIntExact(4 * (i + j)), big.getInt(4 * j));
            }
            i += n;
        }
        return words;
    }

    /** DL4J's entry as octet first wrote it: the layout, the word count and the words; no checksum, no shapes. */
    private static Content readDl4jVersion1(DataInputStream in) throws IOException {
        PackedStateLayout layout = PackedStateLayout.readBlocks(in);
        ByteBuffer words = readWords(in, layout);
        checkScales(layout, words);
        List<Parameter> parameters = new ArrayList<>();
        for (PackedStateLayout.Group b : layout.groups()) {
            for (PackedStateLayout.Param p : b.params()) {
                parameters.add(new Parameter(new long[] {p.elements()}, 0));
            }
        }
        return new Content(DL4J, "", 0, layout, parameters, words);
    }

    /**
     * DJL's file as octet first wrote it: magic, version 1, optimizer, statistics, step, per parameter its
     * name, shape, bits, block size and update count; then per parameter and statistic its codes (a byte
     * each) and absmax, or its floats; a CRC-32 of all that at the end.
     */
    private static Content readDjlVersion1(byte[] all, Function<String, List<StatisticKind>> kindsOf) throws IOException {
        if (all.length < 8) {
            throw new IOException("octet's optimizer state ends early: the file is truncated");
        }
        CRC32 crc = new CRC32();
        crc.update(all, 0, all.length - 8);
        if (ByteBuffer.wrap(all, all.length - 8, 8).getLong() != crc.getValue()) {
            throw new IOException("octet's optimizer state does not match its checksum; the file is damaged");
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(all, 0, all.length - 8));
        try {
            in.readUTF();
            int version = in.readInt();
            if (version != 1) {
                throw new IOException("octet DJL optimizer state format " + version + " is not one this octet reads");
            }
            String optimizer = in.readUTF();
            int statistics = PackedStateLayout.count(in.readInt(), 3, "statistics of " + optimizer);
            List<StatisticKind> kinds = kindsOf.apply(optimizer);
            if (kinds == null || kinds.size() != statistics) {
                throw new IOException("this file of an earlier octet holds " + statistics + " statistics of " + optimizer
                        + " without naming their kinds, and the job's optimizer does not tell them; restore it under the"
                        + " agent with the same optimizer and save it again");
            }
            int step = in.readInt();
            int count = PackedStateLayout.count(in.readInt(), PackedStateLayout.MAX_COUNT, "parameters");
            List<PackedStateLayout.Param> params = new ArrayList<>();
            List<Parameter> parameters = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String name = in.readUTF();
                long[] shape = new long[PackedStateLayout.count(in.readInt(), 32, "dimensions of " + name)];
                long elements = 1;
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = in.readLong();
                    elements *= shape[d];
                }
                params.add(PackedStateLayout.param(name, elements, in.readInt(), in.readInt()));
                parameters.add(new Parameter(shape, in.readInt()));
            }
            PackedStateLayout.Group group = new PackedStateLayout.Group(optimizer, kinds, params);
            PackedStateLayout layout = new PackedStateLayout(List.of(group));
            if (layout.words() > Integer.MAX_VALUE / 4) {
                throw new IOException("octet's optimizer state holds more than one buffer holds; the file is damaged");
            }
            ByteBuffer words = allocate(layout.words());
            for (int p = 0; p < params.size(); p++) {
                OptimizerState state = group.state(words, p);
                int n = state.length();
                for (int k = 0; k < kinds.size(); k++) {
                    if (state instanceof QuantizedState q) {
                        byte[] c = new byte[n];
                        in.readFully(c);
                        q.codes(k).put(0, c);
                        FloatBuffer absmax = q.absmax(k);
                        for (int b = 0; b < QuantizedState.blocks(n, q.blockSize()); b++) {
                            absmax.put(b, Float.intBitsToFloat(in.readInt()));
                        }
                    } else {
                        FloatBuffer values = ((Float32State) state).values(k);
                        for (int i = 0; i < n; i++) {
                            values.put(i, Float.intBitsToFloat(in.readInt()));
                        }
                    }
                }
            }
            if (in.available() != 0) {
                throw new IOException("octet's optimizer state has " + in.available() + " bytes more than its header describes");
            }
            checkScales(layout, words);
            return new Content(DJL, optimizer, step, layout, parameters, words);
        } catch (EOFException e) {
            throw new IOException("octet's optimizer state ends early: the file is truncated", e);
        }
    }

    /** Every 8-bit parameter's absmax words must be finite numbers >= 0: anything else would poison training. */
    private static void checkScales(PackedStateLayout layout, ByteBuffer words) throws IOException {
        for (int b = 0; b < layout.groups().size(); b++) {
            PackedStateLayout.Group group = layout.groups().get(b);
            if (!group.managed()) {
                continue;
            }
            ByteBuffer groupWords = layout.groupWords(words, b);
            for (int p = 0; p < group.params().size(); p++) {
                PackedStateLayout.Param param = group.params().get(p);
                if (!param.quantized()) {
                    continue;
                }
                for (int s = 0; s < group.kinds().size(); s++) {
                    long start = group.statisticStart(p, s) + param.codeWords();
                    FloatBuffer absmax = PackedStateLayout.slice(groupWords, start, param.absmaxWords()).asFloatBuffer();
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

    /** {@code out}, which closing the wrapper must not close (it is the caller's: a zip entry, a file). */
    private static OutputStream unclosed(OutputStream out) {
        return new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }
}
