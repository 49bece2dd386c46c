package dev.octet.adapters.djl;

import dev.octet.adapters.core.OctetRuntime;
import dev.octet.adapters.core.PackedStateLayout;
import dev.octet.adapters.core.SavedState;
import dev.octet.kernels.StatisticKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * octet's optimizer state beside a DJL model file ({@code name-0001.params} gets
 * {@code name-0001.params.octet}). DJL saves parameters only; this file holds the rest of what
 * training needs to go on exactly: DJL's update counts and, per parameter, the statistics as stored
 * (8-bit codes and absmax, or float32), in octet's one saved-state format ({@link SavedState}: the
 * optimizer, every parameter with its shape and format, a checksum), one update group of the optimizer's
 * statistics holding every parameter.
 *
 * <p>Restoring is all or nothing: a missing file, one whose checksum, format version, optimizer or
 * parameters (names, shapes) do not match the model now training, gets one warning and fresh state.
 * A parameter saved in another format (8-bit vs float32, another block size) is converted.
 */
final class DjlStateFile {

    static final String SUFFIX = ".octet";

    private DjlStateFile() {
    }

    static Path beside(Path paramFile) {
        return paramFile.resolveSibling(paramFile.getFileName() + SUFFIX);
    }

    static void write(Path file, OctetDjlOptimizer o) throws IOException {
        List<OctetDjlOptimizer.Entry> entries = o.entries();
        List<PackedStateLayout.Param> params = new ArrayList<>();
        List<SavedState.Parameter> parameters = new ArrayList<>();
        for (OctetDjlOptimizer.Entry e : entries) {
            params.add(new PackedStateLayout.Param(e.name, e.length(), e.quantized() ? 8 : 32, e.quantized() ? e.blockSize() : 0));
            parameters.add(new SavedState.Parameter(e.shape, o.counts.getOrDefault(e.name, 0)));
        }
        PackedStateLayout.Group group = new PackedStateLayout.Group(o.math.name(), List.of(o.math.statistics()), params);
        PackedStateLayout layout = new PackedStateLayout(List.of(group));
        ByteBuffer words = SavedState.allocate(layout.words());
        for (int p = 0; p < entries.size(); p++) {
            group.state(words, p).copyFrom(entries.get(p).hostState()); // as stored: codes and absmax, or floats
        }
        SavedState.writeFile(file, new SavedState.Content(SavedState.DJL, o.math.name(), o.numUpdate, layout, parameters, words));
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
        StatisticKind[] kinds = o.math.statistics();
        // Files of the first format do not name their statistics' kinds: the job's optimizer does, if it is the same.
        SavedState.Content saved = SavedState.readFile(file, optimizer -> optimizer.equals(o.math.name()) ? List.of(kinds) : null);
        if (!saved.framework().equals(SavedState.DJL)) {
            return file + " holds " + saved.framework() + " state, not DJL's";
        }
        if (!saved.optimizer().equals(o.math.name())) {
            return file + " holds " + saved.optimizer() + " state, but the job now trains with " + o.math.name();
        }
        PackedStateLayout.Group group = saved.layout().groups().get(0);
        Map<String, OctetDjlOptimizer.Entry> entries = o.byName;
        if (saved.layout().groups().size() != 1 || group.params().size() != entries.size()) {
            return file + " holds " + saved.layout().paramCount() + " parameters, the model trains " + entries.size() + " (stale)";
        }
        for (int p = 0; p < group.params().size(); p++) {
            String name = group.params().get(p).name();
            long[] shape = saved.parameters().get(p).shape();
            OctetDjlOptimizer.Entry e = entries.get(name);
            if (e == null || !Arrays.equals(e.shape, shape)) {
                return file + " does not match the model: parameter " + name + " " + Arrays.toString(shape)
                        + (e == null ? " is not in the model" : " is " + Arrays.toString(e.shape) + " now") + " (stale)";
            }
        }
        if (!group.kinds().equals(List.of(kinds))) {
            return file + " holds the statistics " + group.kinds() + " per parameter, " + o.math.name() + " keeps "
                    + Arrays.toString(kinds);
        }
        for (int p = 0; p < group.params().size(); p++) {
            String name = group.params().get(p).name();
            // As saved, or converted where the policy now stores the parameter otherwise.
            entries.get(name).restore(group.state(saved.layout().groupWords(saved.words(), 0), p));
            o.counts.put(name, Math.toIntExact(saved.parameters().get(p).updates()));
        }
        o.numUpdate = Math.toIntExact(saved.step());
        return null;
    }
}
