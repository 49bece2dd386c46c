package dev.octet.agent;

import dev.octet.adapters.core.PackedStateLayout;
import dev.octet.adapters.dl4j.Dl4jCheckpoints;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * {@code java -jar octet-agent.jar convert in.zip out.zip}: turns a DL4J model file whose updater
 * state octet wrote (8-bit) into a plain DL4J model file with float32 updater state, which DL4J loads
 * without the agent. Needs no DL4J: it reads and writes ND4J's array format directly.
 */
final class CheckpointConverter {

    private static final String UPDATER_ENTRY = "updaterState.bin";
    private static final String PARAMS_ENTRY = "coefficients.bin";
    private static final String ALLOCATION = "MIXED_DATA_TYPES";

    private CheckpointConverter() {
    }

    /** Returns a line saying what was done. */
    static String convert(Path in, Path out) throws IOException {
        try (ZipFile zip = new ZipFile(in.toFile());
                ZipOutputStream target = new ZipOutputStream(new BufferedOutputStream(Files.newOutputStream(out)))) {
            ZipEntry stateEntry = zip.getEntry(UPDATER_ENTRY);
            byte[] converted = null;
            if (stateEntry != null) {
                try (InputStream s = zip.getInputStream(stateEntry)) {
                    converted = convertState(s, floatExtras(zip));
                }
            }
            for (ZipEntry e : Collections.list(zip.entries())) {
                target.putNextEntry(new ZipEntry(e.getName()));
                if (e.getName().equals(UPDATER_ENTRY) && converted != null) {
                    target.write(converted);
                } else {
                    try (InputStream s = zip.getInputStream(e)) {
                        s.transferTo(target);
                    }
                }
                target.closeEntry();
            }
            return converted == null
                    ? "no octet optimizer state in " + in + "; copied it unchanged to " + out
                    : "wrote " + out + ": a plain DL4J model file with float32 optimizer state";
        }
    }

    /** The float32 state in ND4J's format, or null when the entry is not octet's. */
    private static byte[] convertState(InputStream raw, long floatExtras) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(raw));
        if (!Dl4jCheckpoints.WITHOUT_OCTET.equals(in.readUTF())) {
            return null;
        }
        PackedStateLayout layout = PackedStateLayout.read(in, false);
        int words = Math.toIntExact(in.readLong());
        ByteBuffer packed = ByteBuffer.allocate(4 * words).order(ByteOrder.nativeOrder());
        for (int i = 0; i < words; i++) {
            packed.putInt(4 * i, in.readInt());
        }
        PackedStateLayout plain = layout.allFloat32();
        int length = Math.toIntExact(plain.words());
        ByteBuffer floats = ByteBuffer.allocate(4 * length).order(ByteOrder.nativeOrder());
        plain.convertFrom(layout, packed, floats);

        ByteArrayOutputStream bytes = new ByteArrayOutputStream(4 * length + 128);
        DataOutputStream out = new DataOutputStream(bytes);
        // Shape information of a rank-1 float array [length], c order, as ND4J writes it.
        long[] shapeInfo = {1, length, 1, floatExtras, 1, 'c'};
        out.writeUTF(ALLOCATION);
        out.writeLong(shapeInfo.length);
        out.writeUTF("LONG");
        for (long v : shapeInfo) {
            out.writeLong(v);
        }
        out.writeUTF(ALLOCATION);
        out.writeLong(length);
        out.writeUTF("FLOAT");
        for (int i = 0; i < length; i++) {
            out.writeFloat(floats.getFloat(4 * i));
        }
        out.flush();
        return bytes.toByteArray();
    }

    /**
     * ND4J's "extras" word for a float32 array (its data-type flags), read from the parameters' own
     * header in the same file, so the written state carries exactly what this ND4J version expects.
     */
    private static long floatExtras(ZipFile zip) throws IOException {
        ZipEntry params = zip.getEntry(PARAMS_ENTRY);
        if (params == null) {
            throw new IOException("not a DL4J model file: no " + PARAMS_ENTRY);
        }
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(zip.getInputStream(params)))) {
            in.readUTF();
            int rankPlus = Math.toIntExact(in.readLong());
            if (!"LONG".equals(in.readUTF())) {
                throw new IOException("unexpected " + PARAMS_ENTRY + " header");
            }
            long[] info = new long[rankPlus];
            for (int i = 0; i < rankPlus; i++) {
                info[i] = in.readLong();
            }
            return info[rankPlus - 3];
        }
    }
}
