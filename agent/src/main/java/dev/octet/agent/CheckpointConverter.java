package dev.octet.agent;

import dev.octet.adapters.core.SafeFiles;
import dev.octet.adapters.core.SavedState;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * {@code java -jar octet-agent.jar convert in out}: turns a DL4J model file whose updater state octet
 * wrote (8-bit) into a plain DL4J model file with float32 updater state, which DL4J loads without the
 * agent; and a DJL state file ({@code name-0001.params.octet}) into one whose statistics are all float32
 * (DJL itself saves no optimizer state, so that file is still octet's, and octet restores it under any
 * policy). Needs neither framework: it reads octet's state with {@link SavedState} and writes ND4J's array
 * format directly. The output is written whole under another name in its folder and moved into place only
 * when the conversion succeeded; an output that is the input (after following links) is refused.
 */
final class CheckpointConverter {

    private static final String UPDATER_ENTRY = "updaterState.bin";
    private static final String PARAMS_ENTRY = "coefficients.bin";
    private static final String ALLOCATION = "MIXED_DATA_TYPES";
    private static final String CONFIGURATION_ENTRY = "configuration.json";

    private CheckpointConverter() {
    }

    /** Returns a line saying what was done. */
    static String convert(Path in, Path out) throws IOException {
        if (!Files.isRegularFile(in)) {
            throw new IOException(in + " is not a file");
        }
        if (Files.exists(out) && Files.isSameFile(in, out)) {
            throw new IOException(out + " is " + in + " itself; write the plain checkpoint to another file");
        }
        if (Files.isDirectory(out)) {
            throw new IOException(out + " is a folder; name the file to write");
        }
        if (!isZip(in)) {
            return convertStateFile(in, out);
        }
        boolean[] octetState = {false};
        try (ZipFile zip = new ZipFile(in.toFile())) {
            refuseStableEmbeddings(zip, in);
            ZipEntry stateEntry = zip.getEntry(UPDATER_ENTRY);
            byte[] converted = null;
            if (stateEntry != null) {
                try (InputStream s = zip.getInputStream(stateEntry)) {
                    converted = convertState(s, floatExtras(zip));
                }
            }
            byte[] state = converted;
            octetState[0] = state != null;
            SafeFiles.replace(out, stream -> {
                ZipOutputStream target = new ZipOutputStream(new BufferedOutputStream(stream));
                for (ZipEntry e : Collections.list(zip.entries())) {
                    target.putNextEntry(new ZipEntry(e.getName()));
                    if (e.getName().equals(UPDATER_ENTRY) && state != null) {
                        target.write(state);
                    } else {
                        try (InputStream s = zip.getInputStream(e)) {
                            s.transferTo(target);
                        }
                    }
                    target.closeEntry();
                }
                target.finish();
                target.flush();
            });
        } catch (java.util.zip.ZipException e) {
            throw new IOException(in + " is not a DL4J model file (not a zip: " + e.getMessage() + ")", e);
        }
        return octetState[0]
                ? "wrote " + out + ": a plain DL4J model file with float32 optimizer state"
                : "no octet optimizer state in " + in + "; copied it unchanged to " + out;
    }

    private static boolean isZip(Path file) throws IOException {
        try (InputStream s = Files.newInputStream(file)) {
            byte[] magic = s.readNBytes(4);
            return magic.length == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
        }
    }

    /** A DJL state file (octet's format, or not a model file at all): its statistics all float32. */
    private static String convertStateFile(Path in, Path out) throws IOException {
        SavedState.Content saved;
        try {
            // A file of the first DJL format does not name its statistics' kinds; without the job's optimizer
            // they are unknown, and reading it says what to do instead.
            saved = SavedState.readFile(in, optimizer -> null);
        } catch (IOException e) {
            if ("not octet optimizer state".equals(e.getMessage())) {
                throw new IOException(in + " is not a DL4J model file (not a zip), nor an octet state file", e);
            }
            throw e;
        }
        SavedState.writeFile(out, saved.float32());
        return "wrote " + out + ": octet's " + saved.framework() + " optimizer state of " + saved.optimizer()
                + " with every statistic float32";
    }

    /**
     * A model with stable embeddings keeps their layer normalisation as octet's activation in its
     * configuration, which plain DL4J cannot compute (nor load); a file without it would be another model.
     */
    private static void refuseStableEmbeddings(ZipFile zip, Path in) throws IOException {
        ZipEntry config = zip.getEntry(CONFIGURATION_ENTRY);
        if (config == null) {
            return;
        }
        try (InputStream s = zip.getInputStream(config)) {
            if (new String(s.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).contains(SavedState.DL4J_STABLE_EMBEDDING_ACTIVATION)) {
                throw new IOException(in + " has stable embeddings: their layer normalisation is octet's"
                        + " (StableEmbeddingActivation), which DL4J without octet cannot compute, so no plain DL4J file"
                        + " holds this model. Load it with the agent (-javaagent:octet-agent.jar), for training or"
                        + " serving; or train it without stable embeddings in the policy if it must load without octet");
            }
        }
    }

    /** The float32 state in ND4J's format, or null when the entry is not octet's. */
    private static byte[] convertState(InputStream raw, long floatExtras) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(raw));
        in.mark(1 << 17);
        String head;
        try {
            head = in.readUTF();
        } catch (IOException notAString) {
            return null;
        }
        if (!SavedState.isHeader(head)) {
            return null;
        }
        SavedState.Content plain = SavedState.readAfterHeader(in).float32();
        ByteBuffer floats = plain.words();
        int length = floats.capacity() / 4;

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
