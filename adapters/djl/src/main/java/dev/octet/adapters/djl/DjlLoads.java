package dev.octet.adapters.djl;

import ai.djl.Model;
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
 */
final class DjlLoads {

    /** One {@code Model.load}: the parameter file, octet's state file beside it, and the arrays it made. */
    private static final class Load {
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
    }

    private final String modelName;
    private final List<Load> loads = new ArrayList<>();
    /** A load or a new trainer since the last update: the next update decides what DJL trains. */
    private volatile boolean checkDue;

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
        loads.add(new Load(parameterFile, stateFile, arrays));
        checkDue = true;
    }

    /** A new trainer takes the arrays the model holds now (or held at a load the old trainer ignored). */
    synchronized void trainerCreated() {
        if (!loads.isEmpty()) {
            checkDue = true;
        }
    }

    boolean checkDue() {
        return checkDue;
    }

    /**
     * Before DJL's update of {@code parameterId}, whose array DJL trains is {@code trained}: the state file
     * to restore (DJL trains the arrays of a load no one has trained yet), or null. Loads
     * made after the trainer took its arrays are warned about, once each.
     */
    synchronized Path trainedLoad(String parameterId, Object trained) {
        checkDue = false;
        int hit = loads.size() - 1;
        while (hit >= 0 && !loads.get(hit).made(parameterId, trained)) {
            hit--;
        }
        for (int i = hit + 1; i < loads.size(); i++) {
            Load late = loads.get(i);
            if (!late.settled && !late.warned) {
                late.warned = true;
                warnNotTrained(late);
            }
        }
        if (hit < 0) {
            return null;
        }
        Load load = loads.get(hit);
        for (int i = 0; i < hit; i++) {
            loads.get(i).settled = true;
        }
        if (load.settled) {
            return null;
        }
        load.settled = true;
        return load.stateFile;
    }

    /**
     * The state file of the latest load whose arrays the model holds now (those {@code Model.save} writes)
     * and no one trained yet, or null.
     */
    synchronized Path heldLoad(Model model) {
        for (int i = loads.size() - 1; i >= 0; i--) {
            Load load = loads.get(i);
            if (load.settled) {
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

    private void warnNotTrained(Load load) {
        OctetRuntime.warnOnce("djl-load-not-trained:" + modelName + ":" + System.identityHashCode(this) + ":" + load.parameterFile,
                "the model " + modelName + " loaded " + load.parameterFile + " after its trainer had taken the arrays it trains"
                + " (at Trainer.initialize or its first forward pass): DJL's trainer goes on training those, so the loaded"
                + " values are not the ones being trained (and Model.save writes them as loaded). octet keeps its optimizer"
                + " state with what DJL trains and does not restore " + load.stateFile.getFileName() + " for this trainer. To"
                + " resume from a saved model, load it before creating the trainer");
    }
}
