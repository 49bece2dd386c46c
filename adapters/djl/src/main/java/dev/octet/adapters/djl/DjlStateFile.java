package dev.octet.adapters.djl;

import dev.octet.adapters.core.OctetRuntime;
import dev.octet.adapters.core.SafeFiles;
import dev.octet.kernels.Float32State;
import dev.octet.kernels.OptimizerState;
import dev.octet.kernels.QuantizedState;
import dev.octet.kernels.StatisticKind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * octet's optimizer state beside a DJL model file ({@code name-0001.params} gets
 * {@code name-0001.params.octet}). DJL saves parameters only; this file holds the rest of what
 * training needs to go on exactly: DJL's update counts and, per parameter, the statistics as stored
 * (8-bit codes and absmax, or float32), after a header that names the optimizer and every parameter
 * with its shape and format, and a CRC-32 of everything before it at the end.
 *
 * <p>Restoring is all or nothing: a missing file, one whose checksum, format version, optimizer or
 * parameters (names, shapes) do not match the model now training, gets one warning and fresh state.
 * A parameter saved in another format (8-bit vs float32, another block size) is converted.
 */
final class DjlStateFile {

    static final String MAGIC = "octet DJL optimizer state";
    static final int FORMAT_VERSION = 1;
    static final String SUFFIX = ".octet";

    private DjlStateFile() {
    }

    static Path beside(Path paramFile) {
        return paramFile.resolveSibling(paramFile.getFileName() + SUFFIX);
    }

    static void write(Path file, OctetDjlOptimizer o) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        List<OctetDjlOptimizer.Entry> entries = o.entries();
        StatisticKind[] kinds = o.math.statistics();
        out.writeUTF(MAGIC);
        out.writeInt(FORMAT_VERSION);
        out.writeUTF(o.math.name());
        out.writeInt(kinds.length);
        out.writeInt(o.numUpdate);
        out.writeInt(entries.size());
        for (OctetDjlOptimizer.Entry e : entries) {
            out.writeUTF(e.name);
            out.writeInt(e.shape.length);
            for (long d : e.shape) {
                out.writeLong(d);
            }
            out.writeInt(e.quantized() ? 8 : 32);
            out.writeInt(e.quantized() ? e.blockSize() : 0);
            out.writeInt(o.counts.getOrDefault(e.name, 0));
        }
        for (OctetDjlOptimizer.Entry e : entries) {
            OptimizerState state = e.hostState();
            for (int s = 0; s < kinds.length; s++) {
                if (state instanceof QuantizedState q) {
                    ByteBuffer codes = q.codes(s);
                    byte[] c = new byte[q.length()];
                    codes.get(0, c);
                    out.write(c);
                    FloatBuffer absmax = q.absmax(s);
                    for (int b = 0; b < QuantizedState.blocks(q.length(), q.blockSize()); b++) {
                        out.writeInt(Float.floatToRawIntBits(absmax.get(b)));
                    }
                } else {
                    FloatBuffer values = ((Float32State) state).values(s);
                    for (int i = 0; i < state.length(); i++) {
                        out.writeInt(Float.floatToRawIntBits(values.get(i)));
                    }
                }
            }
        }
        out.flush();
        CRC32 crc = new CRC32();
        crc.update(bytes.toByteArray());
        out.writeLong(crc.getValue());
        out.flush();
        SafeFiles.replace(file, bytes::writeTo);
    }

    /** Restores {@code file} into {@code o}; on any mismatch warns once and leaves the state fresh. */
    static void restoreOrWarn(Path file, OctetDjlOptimizer o) {
        String problem;
        try {
            problem = Files.exists(file) ? restore(file, o) : "there is no octet state file " + file;
        } catch (IOException | RuntimeException e) {
            problem = "cannot read " + file + " (" + e.getMessage() + ")";
        }
        if (problem != null) {
            OctetRuntime.warnOnce("djl-restore:" + file + ":" + o.modelName + ":" + System.identityHashCode(o),
                    "the model " + o.modelName
                    + " was loaded, but its optimizer state cannot be restored: " + problem
                    + ". Training goes on with fresh optimizer state (as DJL itself does)");
        } else {
            System.err.println("[octet] restored the optimizer state of " + o.modelName + " from " + file);
        }
    }

    /** Returns null when restored, else what is wrong (nothing was changed then). */
    private static String restore(Path file, OctetDjlOptimizer o) throws IOException {
        byte[] all = Files.readAllBytes(file);
        if (all.length < 8) {
            return file + " is truncated";
        }
        CRC32 crc = new CRC32();
        crc.update(all, 0, all.length - 8);
        long stored = ByteBuffer.wrap(all, all.length - 8, 8).getLong();
        if (stored != crc.getValue()) {
            return file + " is corrupt (checksum mismatch)";
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(all, 0, all.length - 8));
        if (!MAGIC.equals(in.readUTF())) {
            return file + " is not an octet DJL state file";
        }
        int version = in.readInt();
        if (version != FORMAT_VERSION) {
            return file + " has format version " + version + "; this octet reads " + FORMAT_VERSION;
        }
        String optimizer = in.readUTF();
        if (!optimizer.equals(o.math.name())) {
            return file + " holds " + optimizer + " state, but the job now trains with " + o.math.name();
        }
        int statistics = in.readInt();
        int numUpdate = in.readInt();
        int count = in.readInt();
        record Saved(String name, long[] shape, int bits, int blockSize, int updates) {
        }
        List<Saved> saved = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String name = in.readUTF();
            long[] shape = new long[in.readInt()];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = in.readLong();
            }
            saved.add(new Saved(name, shape, in.readInt(), in.readInt(), in.readInt()));
        }
        Map<String, OctetDjlOptimizer.Entry> entries = o.byName;
        if (saved.size() != entries.size()) {
            return file + " holds " + saved.size() + " parameters, the model trains " + entries.size() + " (stale)";
        }
        for (Saved s : saved) {
            OctetDjlOptimizer.Entry e = entries.get(s.name());
            if (e == null || !Arrays.equals(e.shape, s.shape())) {
                return file + " does not match the model: parameter " + s.name() + " " + Arrays.toString(s.shape())
                        + (e == null ? " is not in the model" : " is " + Arrays.toString(e.shape) + " now") + " (stale)";
            }
        }
        StatisticKind[] kinds = o.math.statistics();
        if (statistics != kinds.length) {
            return file + " holds " + statistics + " statistics per parameter, " + o.math.name() + " keeps " + kinds.length;
        }
        // Read everything first: nothing changes unless the whole file is good.
        Map<String, OptimizerState> read = new HashMap<>();
        for (Saved s : saved) {
            int n = entries.get(s.name()).length();
            OptimizerState state = s.bits() == 8 ? QuantizedState.allocate(n, s.blockSize(), kinds) : Float32State.allocate(n, kinds);
            for (int k = 0; k < kinds.length; k++) {
                if (state instanceof QuantizedState q) {
                    byte[] c = new byte[n];
                    in.readFully(c);
                    q.codes(k).put(0, c);
                    FloatBuffer absmax = q.absmax(k);
                    for (int b = 0; b < QuantizedState.blocks(n, s.blockSize()); b++) {
                        absmax.put(b, Float.intBitsToFloat(in.readInt()));
                    }
                } else {
                    FloatBuffer values = ((Float32State) state).values(k);
                    for (int i = 0; i < n; i++) {
                        values.put(i, Float.intBitsToFloat(in.readInt()));
                    }
                }
            }
            read.put(s.name(), state);
        }
        if (in.available() != 0) {
            return file + " has " + in.available() + " bytes more than its header describes";
        }
        for (Saved s : saved) {
            // As saved, or converted where the policy now stores the parameter otherwise.
            entries.get(s.name()).restore(read.get(s.name()));
            o.counts.put(s.name(), s.updates());
        }
        o.numUpdate = numUpdate;
        return null;
    }
}
