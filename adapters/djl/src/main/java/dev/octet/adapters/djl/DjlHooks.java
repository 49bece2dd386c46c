package dev.octet.adapters.djl;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.TrainingConfig;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Utils;
import dev.octet.adapters.core.HookFailures;
import dev.octet.adapters.core.OctetRuntime;
import dev.octet.adapters.core.SafeFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLogger;

/**
 * The calls the agent weaves into DJL: {@code Trainer}'s constructor (octet takes over the state of the
 * trainer's optimizer), {@code LocalParameterServer.update} (the one place every parameter update goes
 * through: octet's fused update on the tensors' memory instead of DJL's optimizer), {@code BaseModel.save}
 * (octet's state beside the parameters), {@code BaseModel.readParameters} (and back) and
 * {@code Parameter.load} (which arrays a stream made: a load octet can tie to no file is told apart).
 *
 * <p>Failures follow {@link HookFailures}: a hook that fails for a model leaves that model to DJL's own
 * optimizer from then on (one warning; its state starts fresh there, as DJL's optimizer never held it),
 * and {@code onError: fail} stops the job instead.
 */
public final class DjlHooks {

    /**
     * The job's logger for {@code report: log}; where the job's SLF4J has no provider it drops everything
     * (a common state of DJL jobs), and the report goes to standard error instead.
     */
    private static final Logger LOG = LoggerFactory.getLogger("octet");
    private static final Consumer<String> REPORT = LOG instanceof NOPLogger
            ? text -> System.err.println(text + System.lineSeparator() + "[octet] (printed here: SLF4J has no logging"
                    + " provider in this job, so report: log would have dropped it)")
            : LOG::info;

    /** The job's optimizer instances octet runs, and the model each trains. */
    private static final Map<Object, OctetDjlOptimizer> BY_OPTIMIZER = Collections.synchronizedMap(new WeakHashMap<>());
    private static final Map<Object, OctetDjlOptimizer> BY_MODEL = Collections.synchronizedMap(new WeakHashMap<>());
    /**
     * Per thread, inside DJL's {@code ParameterStore.updateAllParameters}: the optimizers whose GPU
     * updates wait for the step's end, to be launched together.
     */
    private static final ThreadLocal<Set<OctetDjlOptimizer>> STEP = new ThreadLocal<>();
    /** The parameter files each model was loaded from, and which of them DJL trains. */
    private static final Map<Object, DjlLoads> LOADS = Collections.synchronizedMap(new WeakHashMap<>());
    /** Models octet stood aside from after one of its hooks failed for them: DJL's own optimizer trains them. */
    private static final Set<Object> ASIDE = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    private DjlHooks() {
    }

    /** At the end of {@code Trainer(Model, TrainingConfig)}. */
    public static void trainerCreated(Model model, TrainingConfig config) {
        if (ASIDE.contains(model)) {
            return;
        }
        try {
            DjlStableEmbeddings.mark(model);
            Object optimizer = config.getOptimizer();
            DjlOptimizerMath math = optimizer == null ? null : DjlOptimizerMath.of(optimizer);
            if (math == null) {
                if (optimizer != null && DjlOptimizerMath.Kind.of(optimizer) == null) {
                    OctetRuntime.warnOnce("djl-optimizer:" + optimizer.getClass().getName() + ":" + model.getName() + ":"
                            + System.identityHashCode(model), "DJL optimizer " + optimizer.getClass().getName() + " (model "
                            + model.getName() + ") is not one octet knows; DJL keeps its own state");
                }
                return;
            }
            OctetDjlOptimizer previous = BY_OPTIMIZER.get(optimizer);
            OctetDjlOptimizer o;
            if (previous != null && previous.trains(model)) {
                // A new trainer from the same configuration: DJL's optimizer object keeps its state and
                // update counts across trainers (keyed by parameter ids, which do not change), so octet
                // keeps its own.
                o = previous;
            } else {
                o = new OctetDjlOptimizer(math, model);
                if (previous != null) {
                    // The same optimizer object on another model: DJL starts fresh state for the new
                    // parameter ids, but its t (the largest update count it has seen) goes on.
                    o.numUpdate = previous.numUpdate;
                }
            }
            DjlLoads loads = loadsOf(model);
            loads.trainerCreated();
            o.loads = loads;
            // Registered last: a failure above leaves nothing of octet's behind for this trainer.
            BY_OPTIMIZER.put(optimizer, o);
            BY_MODEL.put(model, o);
        } catch (RuntimeException | LinkageError e) {
            standAside("trainer", e, model, null);
        }
    }

    /**
     * Replaces the body of {@code LocalParameterServer.update(id, grads, params)} when octet runs the
     * optimizer: returns true when it updated the parameter (and zeroed its gradient), false to let DJL.
     */
    public static boolean update(Optimizer optimizer, String parameterId, NDArray[] grads, NDArray[] params) {
        OctetDjlOptimizer o = BY_OPTIMIZER.get(optimizer);
        if (o == null) {
            return false;
        }
        try {
            restoreIfDjlTrainsALoad(o, parameterId, params[0]);
            o.planIfNeeded(REPORT);
            if (params.length > 1) {
                return o.updateReplicas(parameterId, grads, params, REPORT);
            }
            return o.update(parameterId, grads[0], params[0], REPORT);
        } catch (RuntimeException | LinkageError e) {
            standAside("update", e, o.model(), o);
            return false;
        }
    }

    /** The state octet keeps for the job's optimizer object, or null (for tests). */
    static OctetDjlOptimizer running(Object optimizer) {
        return BY_OPTIMIZER.get(optimizer);
    }

    /** At the start of {@code ParameterStore.updateAllParameters()}: DJL's step over all parameters begins. */
    public static void stepStarts() {
        STEP.set(new LinkedHashSet<>());
    }

    /** At its end (also when it throws): the GPU updates recorded in the step are launched. */
    public static void stepEnds() {
        Set<OctetDjlOptimizer> deferred = STEP.get();
        STEP.remove();
        if (deferred == null) {
            return;
        }
        for (OctetDjlOptimizer o : deferred) {
            try {
                o.launchGpuSteps();
            } catch (RuntimeException | LinkageError e) {
                standAside("GPU step", e, o.model(), o);
            }
        }
    }

    /** Whether {@code o}'s GPU update can wait for the end of DJL's step (then it is launched there). */
    static boolean deferToStepEnd(OctetDjlOptimizer o) {
        Set<OctetDjlOptimizer> deferred = STEP.get();
        if (deferred == null) {
            return false;
        }
        deferred.add(o);
        return true;
    }

    /**
     * octet's state goes with the arrays DJL trains: where those are the ones a load made (and no one
     * trained them yet), the state saved beside them is restored (at the plan, or now if octet planned
     * already: a new trainer after a load); where the load came too late for the trainer, DjlLoads warns.
     */
    private static void restoreIfDjlTrainsALoad(OctetDjlOptimizer o, String parameterId, Object trained) {
        DjlLoads loads = o.loads;
        if (loads == null || !loads.checkDue()) {
            return;
        }
        Path stateFile = loads.trainedLoad(parameterId, trained, o.model(), !o.planned());
        if (stateFile == null) {
            return;
        }
        synchronized (o) {
            if (o.planned()) {
                DjlStateFile.restoreOrWarn(stateFile, o);
            } else {
                o.pendingRestore = stateFile;
            }
        }
    }

    private static DjlLoads loadsOf(Model model) {
        synchronized (LOADS) {
            return LOADS.computeIfAbsent(model, m -> new DjlLoads(model.getName()));
        }
    }

    /** At the end of {@code BaseModel.save(modelPath, newModelName)}: octet's state beside the parameter file. */
    public static void modelSaved(Model model, Path modelPath, String newModelName) {
        OctetDjlOptimizer o = BY_MODEL.get(model);
        if (o == null) {
            return;
        }
        String name = newModelName == null || newModelName.isEmpty() ? model.getName() : newModelName;
        try {
            String epochValue = model.getProperty("Epoch");
            int epoch = epochValue == null ? Utils.getCurrentEpoch(modelPath, name) : Integer.parseInt(epochValue);
            Path paramFile = modelPath.resolve(String.format(Locale.ROOT, "%s-%04d.params", name, epoch));
            Path held = o.planned() || o.loads == null ? null : o.loads.heldLoad(model);
            if (held != null && Files.isRegularFile(held)) {
                // Saved before any step, with the arrays a load made: the state that goes with them is the one
                // loaded with them, as it was (which arrays DJL then trains, and so which state, the first step decides).
                Path target = DjlStateFile.beside(paramFile);
                if (!(Files.exists(target) && Files.isSameFile(held, target))) {
                    SafeFiles.replace(target, out -> Files.copy(held, out));
                }
                return;
            }
            o.planIfNeeded(REPORT);
            DjlStateFile.write(DjlStateFile.beside(paramFile), o);
        } catch (IOException | RuntimeException e) {
            OctetRuntime.warnOnce("djl-save:" + modelPath + ":" + name + ":" + e.getClass().getName(), "could not save octet's"
                    + " optimizer state beside the model " + name + " in " + modelPath + " (" + e + "); resuming from this model"
                    + " will start with fresh optimizer state");
        }
    }

    /** At the end of {@code BaseModel.readParameters(paramFile, options)}. */
    public static void parametersRead(Model model, Path paramFile) {
        try {
            loadsOf(model).loaded(model, paramFile, DjlStateFile.beside(paramFile));
            DjlStableEmbeddings.mark(model);
        } catch (RuntimeException | LinkageError e) {
            standAside("load", e, model, BY_MODEL.get(model));
        }
    }

    /** At the end of {@code Parameter.load(manager, stream)}: the parameter's new array came from a stream. */
    public static void parameterLoaded(Parameter parameter) {
        try {
            DjlParameterLoads.loaded(parameter);
        } catch (RuntimeException | LinkageError e) {
            // No model to tie it to: only what a later restore can tell apart is at stake, which it checks itself.
            HookFailures.standAside("DJL", "parameter load", e, "octet may not tell a Block.loadParameters of this job"
                    + " from a Model.load; a restore of optimizer state checks the parameters it restores into");
        }
    }

    /**
     * After {@code hook} failed for {@code model} (and octet's state {@code o} for it, if any): DJL's own
     * optimizer trains the model from now on, with fresh state; one warning, or the job stops under
     * {@code onError: fail}.
     */
    private static void standAside(String hook, Throwable e, Object model, OctetDjlOptimizer o) {
        String name = model instanceof Model m ? m.getName() : "?";
        if (model != null) {
            ASIDE.add(model);
            BY_MODEL.remove(model);
        }
        if (o != null) {
            synchronized (BY_OPTIMIZER) {
                BY_OPTIMIZER.values().removeIf(running -> running == o);
            }
            synchronized (BY_MODEL) {
                BY_MODEL.values().removeIf(running -> running == o);
            }
        }
        HookFailures.standAside("DJL", hook, e, "DJL's own optimizer trains the model " + name + " from here on, with fresh"
                + " optimizer state (octet's is dropped)");
    }

    /** Whether octet stood aside from {@code model} after a hook failed (for tests). */
    static boolean standsAside(Object model) {
        return ASIDE.contains(model);
    }
}
