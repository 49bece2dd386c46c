package dev.octet.adapters.dl4j;

import dev.octet.adapters.core.OctetRuntime;
import dev.octet.adapters.core.PackedStateLayout;
import dev.octet.adapters.core.SavedState;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * octet's state through DL4J's own {@code ModelSerializer} (and so {@code CheckpointListener}).
 *
 * <p>DL4J writes the updater state as floats with {@code writeFloat}, which rewrites NaN bit patterns,
 * and four 8-bit codes packed in a float word can look like a NaN. So octet writes the
 * {@code updaterState.bin} entry itself, in octet's one saved-state format ({@link SavedState}: a string
 * that DL4J, loading without octet, takes for the array's header and rejects with octet's explanation;
 * the layout; the words as ints, bit for bit; a checksum; checked when read). Restoring reads that back into the new updater's view: copied as is
 * when the layouts agree, converted parameter by parameter when they do not (another policy, or a
 * plain 32-bit checkpoint written without octet).
 */
public final class Dl4jCheckpoints {

    private static final List<Managed> MANAGED = new ArrayList<>();
    /** The octet state last read on this thread, until the updater takes it. */
    private static final ThreadLocal<ReadState> LAST_READ = new ThreadLocal<>();

    private record Managed(WeakReference<INDArray> view, PackedStateLayout layout) {
    }

    private record ReadState(INDArray words, PackedStateLayout layout) {
    }

    private Dl4jCheckpoints() {
    }

    /** Called when octet lays out an updater: {@code view} is its state array. */
    static synchronized void register(INDArray view, PackedStateLayout layout) {
        MANAGED.removeIf(m -> m.view().get() == null);
        MANAGED.add(new Managed(new WeakReference<>(view), layout));
    }

    private static synchronized PackedStateLayout layoutOf(INDArray view) {
        for (Managed m : MANAGED) {
            if (m.view().get() == view) {
                return m.layout();
            }
        }
        return null;
    }

    /** Replaces {@code Nd4j.write(array, out)} in {@code ModelSerializer.writeModel}. */
    public static void write(INDArray array, DataOutputStream out) throws IOException {
        PackedStateLayout layout = layoutOf(array);
        if (layout == null) {
            Nd4j.write(array, out);
            return;
        }
        // DL4J's layout carries no shapes or update counts: each parameter is its element count, 0 updates.
        List<SavedState.Parameter> parameters = layout.groups().stream().flatMap(b -> b.params().stream())
                .map(p -> new SavedState.Parameter(new long[] {p.elements()}, 0)).toList();
        SavedState.write(out, new SavedState.Content(SavedState.DL4J, "", 0, layout, parameters, Dl4jMemory.bytes(array)));
    }

    /** Replaces {@code Nd4j.read(in)} in {@code ModelSerializer}'s restore methods. */
    public static INDArray read(DataInputStream in) throws IOException {
        in.mark(1 << 17);
        String head = in.readUTF();
        if (!SavedState.isHeader(head)) {
            in.reset();
            return Nd4j.read(in);
        }
        SavedState.Content saved = SavedState.readAfterHeader(in);
        int[] words = new int[saved.words().capacity() / 4];
        saved.words().asIntBuffer().get(words);
        INDArray array = Nd4j.createFromArray(words);
        LAST_READ.set(new ReadState(array, saved.layout()));
        return array;
    }

    /**
     * Replaces {@code BaseMultiLayerUpdater.setStateViewArray(given)} where octet can do better than
     * DL4J's element-wise assignment; returns false to let DL4J proceed.
     */
    public static boolean applyState(Object currentView, Object givenView) {
        INDArray current = (INDArray) currentView;
        INDArray given = (INDArray) givenView;
        ReadState saved = LAST_READ.get();
        boolean octetState = saved != null && saved.words() == given;
        if (octetState) {
            LAST_READ.remove();
        }
        PackedStateLayout target = current == null ? null : layoutOf(current);
        if (target == null) {
            if (octetState) {
                throw new IllegalStateException("this checkpoint holds octet 8-bit optimizer state, but octet does not "
                        + "manage this network's updater (is -Doctet.dl4j.enabled=false set?); convert it with "
                        + "java -jar octet-agent.jar convert <in.zip> <out.zip>");
            }
            return false;
        }
        PackedStateLayout plain = target.allFloat32();
        if (!octetState && (plain.equals(target) || given.length() != plain.words())) {
            return false; // DL4J's own assignment is exact, or its length check will explain the mismatch
        }
        ByteBuffer to = Dl4jMemory.bytes(current);
        if (!octetState) {
            warnMissing(current, target.convertFrom(plain, Dl4jMemory.bytes(given.castTo(current.dataType())), to));
        } else if (saved.layout().equals(target)) {
            to.put(0, Dl4jMemory.bytes(given), 0, to.capacity());
        } else {
            warnMissing(current, target.convertFrom(saved.layout(), Dl4jMemory.bytes(given), to));
        }
        Dl4jMemory.hostWrote(current);
        return true;
    }

    /**
     * {@code view} in DL4J's own float32 layout: the view itself where octet does not manage it or keeps
     * every parameter float32 (then its layout is DL4J's), else a new array with the 8-bit statistics
     * decoded (a row vector, as DL4J's views are).
     */
    static INDArray decoded(INDArray view) {
        PackedStateLayout layout = view == null ? null : layoutOf(view);
        if (layout == null) {
            return view;
        }
        PackedStateLayout plain = layout.allFloat32();
        if (plain.equals(layout)) {
            return view;
        }
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, 1, plain.words());
        plain.convertFrom(layout, Dl4jMemory.bytes(view), Dl4jMemory.bytes(out));
        Dl4jMemory.hostWrote(out);
        return out;
    }

    /** Once per network restored into (its state view) and set of parameters. */
    private static void warnMissing(INDArray view, List<String> missing) {
        if (!missing.isEmpty()) {
            OctetRuntime.warnOnce("restore-missing:" + System.identityHashCode(view) + ":" + missing,
                    "the checkpoint's optimizer state has nothing for " + missing + "; those parameters start from fresh"
                            + " state");
        }
    }
}
