package dev.octet.adapters.core;

import dev.octet.kernels.Float32State;
import dev.octet.kernels.OptimizerState;
import dev.octet.kernels.QuantizedState;
import dev.octet.kernels.StatisticKind;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How a framework's float32 optimizer-state buffer holds octet's state: a list of groups (parameters
 * that share one updater), each laid out per statistic, then per parameter:
 * {@code [stat 0: p0 p1 ... | stat 1: p0 p1 ...]}. A float32 parameter takes {@code n} words per
 * statistic (for an all-float32 group this is DL4J's own layout); an 8-bit one takes {@code ceil(n/4)}
 * words of codes (four codes per word) then {@code ceil(n/B)} absmax words.
 *
 * <p>The layout is also written in front of saved state ({@link SavedState}), so that state can be read back into a
 * different layout (another policy, or a plain 32-bit checkpoint) and turned into plain float32.
 */
public final class PackedStateLayout {

    private static final String MAGIC = "octet packed optimizer state";

    /** One parameter's place in a group. */
    public record Param(String name, long elements, int bits, int blockSize) {

        public Param {
            if (bits != 8 && bits != 32) {
                throw new IllegalArgumentException("bits is 8 or 32, got " + bits);
            }
        }

        public boolean quantized() {
            return bits == 8;
        }

        public long codeWords() {
            return (elements + 3) / 4;
        }

        public long absmaxWords() {
            return (elements + blockSize - 1) / blockSize;
        }

        public long wordsPerStatistic() {
            return quantized() ? codeWords() + absmaxWords() : elements;
        }
    }

    /**
     * Parameters sharing one updater, with the statistics it keeps. A group octet does not manage (an
     * updater it does not know) has no kinds, and its parameters' {@code elements} are its state words,
     * kept as they are.
     */
    public record Group(String updater, List<StatisticKind> kinds, List<Param> params) {

        public Group {
            kinds = List.copyOf(kinds);
            params = List.copyOf(params);
        }

        public static Group foreign(String updater, String name, long stateWords) {
            return new Group(updater, List.of(), List.of(new Param(name, stateWords, 32, 0)));
        }

        public boolean managed() {
            return !kinds.isEmpty();
        }

        long wordsPerStatistic() {
            return params.stream().mapToLong(Param::wordsPerStatistic).sum();
        }

        public long words() {
            return managed() ? kinds.size() * wordsPerStatistic() : wordsPerStatistic();
        }

        /**
         * Word offset, within this block's words, of statistic {@code s} of parameter {@code p}: its
         * code words then its absmax words when 8-bit, its floats when float32.
         */
        public long statisticStart(int p, int s) {
            long before = 0;
            for (int i = 0; i < p; i++) {
                before += params.get(i).wordsPerStatistic();
            }
            return s * wordsPerStatistic() + before;
        }

        /** The state of parameter {@code p} over {@code groupWords} (this group's words, native order), not copied. */
        public OptimizerState state(ByteBuffer groupWords, int p) {
            if (!managed()) {
                throw new IllegalStateException("octet does not manage the state of " + updater);
            }
            Param param = params.get(p);
            StatisticKind[] k = kinds.toArray(new StatisticKind[0]);
            int n = Math.toIntExact(param.elements());
            if (param.quantized()) {
                ByteBuffer[] codes = new ByteBuffer[k.length];
                FloatBuffer[] absmax = new FloatBuffer[k.length];
                for (int s = 0; s < k.length; s++) {
                    long start = statisticStart(p, s);
                    codes[s] = slice(groupWords, start, param.codeWords());
                    absmax[s] = slice(groupWords, start + param.codeWords(), param.absmaxWords()).asFloatBuffer();
                }
                return QuantizedState.wrap(n, param.blockSize(), k, codes, absmax);
            }
            FloatBuffer[] values = new FloatBuffer[k.length];
            for (int s = 0; s < k.length; s++) {
                values[s] = slice(groupWords, statisticStart(p, s), n).asFloatBuffer();
            }
            return Float32State.wrap(n, k, values);
        }
    }

    private final List<Group> groups;

    public PackedStateLayout(List<Group> groups) {
        this.groups = List.copyOf(groups);
    }

    public List<Group> groups() {
        return groups;
    }

    public long words() {
        return groups.stream().mapToLong(Group::words).sum();
    }

    /** The same groups with every parameter float32: the framework's own layout. */
    public PackedStateLayout allFloat32() {
        List<Group> out = new ArrayList<>();
        for (Group b : groups) {
            List<Param> params = new ArrayList<>();
            for (Param p : b.params()) {
                params.add(new Param(p.name(), p.elements(), 32, p.blockSize()));
            }
            out.add(b.managed() ? new Group(b.updater(), b.kinds(), params) : b);
        }
        return new PackedStateLayout(out);
    }

    /** Word offset of group {@code b} in the whole buffer. */
    public long groupStart(int b) {
        long start = 0;
        for (int i = 0; i < b; i++) {
            start += groups.get(i).words();
        }
        return start;
    }

    /** The words of group {@code b} within {@code allWords}, not copied. */
    public ByteBuffer groupWords(ByteBuffer allWords, int b) {
        return slice(allWords, groupStart(b), groups.get(b).words());
    }

    /** Words {@code [startWord, startWord + count)} of a buffer, in native order. */
    static ByteBuffer slice(ByteBuffer buffer, long startWord, long count) {
        return buffer.slice(Math.toIntExact(4 * startWord), Math.toIntExact(4 * count)).order(ByteOrder.nativeOrder());
    }

    /**
     * Moves state from a buffer in layout {@code from} into one in this layout, parameter by parameter
     * (matched by name and size): 8-bit to float32, float32 to 8-bit, or block size to block size. A
     * parameter the source does not have keeps what the target holds.
     *
     * @return the names of target parameters that found no source
     */
    public List<String> convertFrom(PackedStateLayout from, ByteBuffer fromWords, ByteBuffer toWords) {
        Map<String, int[]> sources = new HashMap<>();
        for (int b = 0; b < from.groups.size(); b++) {
            for (int p = 0; p < from.groups.get(b).params().size(); p++) {
                sources.put(from.groups.get(b).params().get(p).name(), new int[] {b, p});
            }
        }
        List<String> missing = new ArrayList<>();
        for (int b = 0; b < groups.size(); b++) {
            Group group = groups.get(b);
            ByteBuffer target = groupWords(toWords, b);
            for (int p = 0; p < group.params().size(); p++) {
                Param param = group.params().get(p);
                int[] at = sources.get(param.name());
                Group sourceGroup = at == null ? null : from.groups.get(at[0]);
                if (sourceGroup == null || sourceGroup.params().get(at[1]).elements() != param.elements()
                        || !sourceGroup.kinds().equals(group.kinds())) {
                    missing.add(param.name());
                } else if (!group.managed()) {
                    target.put(0, from.groupWords(fromWords, at[0]), 0, Math.toIntExact(4 * group.words()));
                } else {
                    group.state(target, p).copyFrom(sourceGroup.state(from.groupWords(fromWords, at[0]), at[1]));
                }
            }
        }
        return missing;
    }

    /** The layout as the first format wrote it ({@link SavedState} reads it back from old files; tests write it). */
    void writeVersion1(DataOutput out) throws IOException {
        out.writeUTF(MAGIC);
        out.writeInt(1);
        writeBlocks(out);
    }

    /** The groups: per group its updater, statistics and parameters (name, elements, bits, block size). */
    void writeBlocks(DataOutput out) throws IOException {
        out.writeInt(groups.size());
        for (Group b : groups) {
            out.writeUTF(b.updater());
            out.writeInt(b.kinds().size());
            for (StatisticKind k : b.kinds()) {
                out.writeUTF(k.name());
            }
            out.writeInt(b.params().size());
            for (Param p : b.params()) {
                out.writeUTF(p.name());
                out.writeLong(p.elements());
                out.writeInt(p.bits());
                out.writeInt(p.blockSize());
            }
        }
    }

    /** The string the layout of saved state starts with, in every format. */
    static final String LAYOUT_MAGIC = MAGIC;

    /** Reads what {@link #writeBlocks} wrote, every count bounded before anything is allocated for it. */
    static PackedStateLayout readBlocks(DataInput in) throws IOException {
        int groupCount = count(in.readInt(), MAX_COUNT, "update groups");
        List<Group> groups = new ArrayList<>();
        long totalParams = 0;
        for (int b = 0; b < groupCount; b++) {
            String updater = in.readUTF();
            int kindCount = count(in.readInt(), 3, "statistics of " + updater);
            List<StatisticKind> kinds = new ArrayList<>();
            for (int k = 0; k < kindCount; k++) {
                String kind = in.readUTF();
                try {
                    kinds.add(StatisticKind.valueOf(kind));
                } catch (IllegalArgumentException e) {
                    throw damaged("a statistic of kind '" + kind + "', which octet does not have");
                }
            }
            int paramCount = count(in.readInt(), MAX_COUNT, "parameters of " + updater);
            totalParams += paramCount;
            if (totalParams > MAX_COUNT) {
                throw damaged("more than " + MAX_COUNT + " parameters");
            }
            List<Param> params = new ArrayList<>();
            for (int p = 0; p < paramCount; p++) {
                params.add(param(in.readUTF(), in.readLong(), in.readInt(), in.readInt()));
            }
            groups.add(new Group(updater, kinds, params));
        }
        PackedStateLayout layout = new PackedStateLayout(groups);
        if (layout.words() > Integer.MAX_VALUE / 4) {
            throw damaged(layout.words() + " words, more than one buffer holds");
        }
        return layout;
    }

    /** A parameter as read from a file, checked. */
    static Param param(String name, long elements, int bits, int blockSize) throws IOException {
        if (elements < 0 || elements > Integer.MAX_VALUE || (bits != 8 && bits != 32)) {
            throw damaged(name + " with " + elements + " elements of " + bits + " bits");
        }
        if (bits == 8) {
            try {
                QuantizedState.checkBlockSize(blockSize);
            } catch (IllegalArgumentException e) {
                throw damaged(name + ": " + e.getMessage());
            }
        }
        return new Param(name, elements, bits, blockSize);
    }

    /** The number of parameters over all groups. */
    public int paramCount() {
        return groups.stream().mapToInt(b -> b.params().size()).sum();
    }

    /** Counts read from a file are bounded before anything is allocated for them. */
    static final int MAX_COUNT = 1 << 20;

    static int count(int value, int max, String what) throws IOException {
        if (value < 0 || value > max) {
            throw damaged(value + " " + what);
        }
        return value;
    }

    static IOException damaged(String what) {
        return new IOException("octet's optimizer state layout holds " + what + "; the entry is damaged");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PackedStateLayout other && groups.equals(other.groups);
    }

    @Override
    public int hashCode() {
        return groups.hashCode();
    }
}
