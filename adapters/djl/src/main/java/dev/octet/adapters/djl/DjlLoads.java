package dev.octet.adapters.djl;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.octet.adapters.core.OctetRuntime;
import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The times a job loaded one model's parameters, and which of those loads DJL's training actually uses.
 *
 * <p>DJL's {@code Parameter.load} gives each parameter a new array. A trainer's {@code ParameterStore}
 * keeps the arrays it first saw (every parameter's at {@code Trainer.initialize}, otherwise each at its
 * first forward pass) and hands those to the optimizer from then on. So a model loaded before its trainer
 * took the arrays is trained from the loaded values; one loaded later is not: the trainer goes on with the
 * arrays it had, and the loaded values sit in the model untrained ({@code Model.save} writes them as
 * loaded). octet restores the optimizer state saved beside a parameter file exactly when the arrays DJL
 * hands to the optimizer are the ones that load made, and only once, before they were trained; otherwise
 * octet's state stays with the arrays DJL trains, and the job gets one warning per model and file.
 *
 * <p>Whether the arrays are the loaded ones is decided on the first update after a load or after a new
 * trainer (a trainer takes its arrays by then), from the parameter being updated.
 *
 * <p>Two loads name no file of this model: a {@code Block.loadParameters} the job called itself (the
 * stream's file is unknown to octet: {@link DjlParameterLoads}), and a {@code Model.load} by another
 * {@code Model} instance into the same block object. Where DJL trains the arrays of the first, octet
 * says it cannot restore and trains on with the state it has; where it trains those of the second,
 * octet restores that load's state file (once, as for its own). Either one made after the trainer took
 * its arrays leaves them untrained, and the job is told, as for a late load of its own.
 */
final class DjlLoads {

    /** One {@code Model.load}: the parameter file, octet's state file beside it, and the arrays it made. */
    static final class Load {
        final Path parameterFile;
        final Path stateFile;
        /** By parameter id; weak: the model and DJL's trainer decide how long arrays live. */
        final Map<String, WeakReference<Object>> arrays;
        /** Trained (restored into an optimizer, or trained with fresh state), or superseded by a later load. */
        boolean settled;
        boolean warned;

        Load(Path parameterFile, Path stateFile, Map<String, WeakReference<Object>> arrays) {
            this.parameterFile = parameterFile;
            this.stateFile = stateFile;
            this.arrays = arrays;
        }

        boolean made(String parameterId, Object array) {
            WeakReference<Object> made = arrays.get(parameterId);
            return made != null && made.get() == array;
        }

        /**
         * Marks it trained; true if no one had trained it (its state is the one to restore). Synchronized on
         * the load: a trainer of another model that shares the block may settle it too.
         */
        synchronized boolean settle() {
            boolean first = !settled;
            settled = true;
            return first;
        }

        synchronized boolean settled() {
            return settled;
        }
    }

    private final String modelName;
    private final List<Load> loads = new ArrayList<>();
    /** A load or a new trainer since the last update: the next update decides what DJL trains. */
    private volatile boolean checkDue;
    /** {@link DjlParameterLoads#count()} when last checked: any stream load since (into any block) is checked for. */
    private volatile int parameterLoadsSeen = DjlParameterLoads.count();

    DjlLoads(String modelName) {
        this.modelName = modelName;
    }

    /** At the end of {@code BaseModel.readParameters}: the arrays the load gave the model's parameters. */
    synchronized void loaded(Model model, Path parameterFile, Path stateFile) {
        Map<String, WeakReference<Object>> arrays = new HashMap<>();
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            if (p.getValue().isInitialized()) {
                arrays.put(p.getValue().getId(), new WeakReference<>(p.getValue().getArray()));
            }
        }
        Load load = new Load(parameterFile, stateFile, arrays);
        loads.add(load);
        // The arrays the stream made are this load's: a trainer of another model on the same block finds it so.
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            if (p.getValue().isInitialized()) {
                DjlParameterLoads.Made made = DjlParameterLoads.madeBy(p.getValue(), p.getValue().getArray());
                if (made != null) {
                    made.modelLoad = load;
                }
            }
        }
        checkDue = true;
    }

    /** A new trainer takes the arrays the model holds now (or held at a load the old trainer ignored). */
    synchronized void trainerCreated() {
        checkDue = true;
    }

    boolean checkDue() {
        return checkDue || parameterLoadsSeen != DjlParameterLoads.count();
    }

    /**
     * Before DJL's update of {@code parameterId} of {@code model}, whose array DJL trains is {@code trained}:
     * the state file to restore (DJL trains the arrays of a {@code Model.load}, this model's or another's
     * into the same block, that no one has trained yet), or null. Loads made after the trainer took its
     * arrays, and arrays that came from a stream no {@code Model.load} names, are warned about, once each;
     * {@code freshState}: the optimizer has no state yet (a new one), for the warning's words.
     */
    synchronized Path trainedLoad(String parameterId, Object trained, Model model, boolean freshState) {
        checkDue = false;
        parameterLoadsSeen = DjlParameterLoads.count();
        Parameter parameter = model == null ? null : parameter(model, parameterId);
        Object held = parameter == null || !parameter.isInitialized() ? null : parameter.getArray();
        int hit = loads.size() - 1;
        while (hit >= 0 && !loads.get(hit).made(parameterId, trained)) {
            hit--;
        }
        for (int i = hit + 1; i < loads.size(); i++) {
            Load late = loads.get(i);
            if (!late.made(parameterId, held)) {
                // A later load replaced its arrays before any trainer took them: nothing of it is left to train.
                late.settle();
            } else if (!late.settled() && !late.warned) {
                late.warned = true;
                warnNotTrained(late);
            }
        }
        for (int i = 0; i < hit; i++) {
            loads.get(i).settle();
        }
        if (hit >= 0) {
            Load load = loads.get(hit);
            return load.settle() ? load.stateFile : null;
        }
        DjlParameterLoads.Made made = parameter == null ? null : DjlParameterLoads.madeBy(parameter, trained);
        if (made != null) {
            DjlLoads.Load other = made.modelLoad;
            if (other != null) {
                // Another Model instance loaded these arrays into this block: its state file goes with them.
                return other.settle() ? other.stateFile : null;
            }
            warnLoadedFromStream(freshState);
            return null;
        }
        DjlParameterLoads.Made replaced = held == trained || parameter == null ? null : DjlParameterLoads.madeBy(parameter, held);
        if (replaced != null && (replaced.modelLoad == null || !loads.contains(replaced.modelLoad))) {
            if (sameDevice(held, trained)) {
                warnReplacedAfterTrainer(replaced.modelLoad);
            } else if (replaced.modelLoad == null) {
                // DJL trains a copy on its device, made before or after the load: octet cannot tell which, but it
                // restores nothing for a stream either way, and says so.
                warnLoadedFromStream(freshState);
            }
        }
        return null;
    }

    private static boolean sameDevice(Object a, Object b) {
        return !(a instanceof NDArray x && b instanceof NDArray y) || x.getDevice().equals(y.getDevice());
    }

    private static Parameter parameter(Model model, String parameterId) {
        if (model.getBlock() == null) {
            return null;
        }
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            if (p.getValue().getId().equals(parameterId)) {
                return p.getValue();
            }
        }
        return null;
    }

    /**
     * The state file of the latest load whose arrays the model holds now (those {@code Model.save} writes)
     * and no one trained yet, or null.
     */
    synchronized Path heldLoad(Model model) {
        for (int i = loads.size() - 1; i >= 0; i--) {
            Load load = loads.get(i);
            if (load.settled()) {
                return null;
            }
            boolean held = !load.arrays.isEmpty();
            for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
                Parameter param = p.getValue();
                if (param.isInitialized() && load.arrays.containsKey(param.getId()) && !load.made(param.getId(), param.getArray())) {
                    held = false;
                }
            }
            if (held) {
                return load.stateFile;
            }
        }
        return null;
    }

    /** DJL trains arrays a stream made that no {@code Model.load} from a file claims: octet cannot find their state. */
    private void warnLoadedFromStream(boolean freshState) {
        OctetRuntime.warnOnce("djl-stream-load:" + modelName + ":" + System.identityHashCode(this), "the parameters of model "
                + modelName + " were loaded with Block.loadParameters (or Model.load from an InputStream), not Model.load"
                + " from a folder: octet cannot learn which file they came from, so it cannot find the optimizer state"
                + " saved with them (" + modelName + "-NNNN.params.octet beside " + modelName + "-NNNN.params) and restores"
                + " nothing. Training goes on with " + (freshState ? "fresh optimizer state" : "the optimizer state its"
                + " optimizer already has, not the state saved with them") + ". To resume it, load with Model.load(folder, \""
                + modelName + "\")");
    }

    /**
     * The model's parameters were replaced after its trainer took its arrays, by a {@code Block.loadParameters}
     * ({@code by} null) or by another {@code Model} instance's {@code Model.load} into the same block.
     */
    private void warnReplacedAfterTrainer(Load by) {
        String what = by == null ? "were loaded with Block.loadParameters (or Model.load from an InputStream)"
                : "were replaced by another Model instance's Model.load of " + by.parameterFile + " into the same block";
        OctetRuntime.warnOnce("djl-replaced-late:" + modelName + ":" + System.identityHashCode(this) + ":"
                + (by == null ? "stream" : by.parameterFile), "the parameters of model " + modelName + " " + what
                + " after its trainer had taken the arrays it trains (at Trainer.initialize or its first forward pass): DJL's"
                + " trainer goes on training those, so the loaded values are not the ones being trained (and Model.save of "
                + modelName + " writes them as loaded). octet keeps this trainer's optimizer state with what DJL trains and"
                + " restores nothing for it" + (by == null ? "" : "; " + by.stateFile.getFileName() + " goes to the first"
                + " trainer that trains the loaded values") + ". To resume from saved parameters, load them with Model.load"
                + " before creating the trainer");
    }

    private void warnNotTrained(Load load) {
        OctetRuntime.warnOnce("djl-load-not-trained:" + modelName + ":" + System.identityHashCode(this) + ":" + load.parameterFile,
                "the model " + modelName + " loaded " + load.parameterFile + " after its trainer had taken the arrays it trains"
                + " (at Trainer.initialize or its first forward pass): DJL's trainer goes on training those, so the loaded"
                + " values are not the ones being trained (and Model.save writes them as loaded). octet keeps its optimizer"
                + " state with what DJL trains and does not restore " + load.stateFile.getFileName() + " for this trainer. To"
                + " resume from a saved model, load it before creating the trainer");
    }
}
