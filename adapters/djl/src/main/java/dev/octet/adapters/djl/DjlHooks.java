package dev.octet.adapters.djl;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.training.TrainingConfig;
import ai.djl.util.Utils;
import dev.octet.adapters.core.OctetRuntime;
import dev.octet.policy.Policy;
import java.io.IOException;
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
 * (octet's state beside the parameters) and {@code BaseModel.readParameters} (and back).
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
    /** Models the job loaded: the state file beside the parameters they were loaded from. */
    private static final Map<Object, Path> LOADED_FROM = Collections.synchronizedMap(new WeakHashMap<>());

    private DjlHooks() {
    }

    /** At the end of {@code Trainer(Model, TrainingConfig)}. */
    public static void trainerCreated(Object model, Object config) {
        try {
            Model m = (Model) model;
            DjlStableEmbeddings.mark(m);
            Object optimizer = ((TrainingConfig) config).getOptimizer();
            DjlOptimizerMath math = optimizer == null ? null : DjlOptimizerMath.of(optimizer);
            if (math == null) {
                if (optimizer != null && DjlOptimizerMath.Kind.of(optimizer) == null) {
                    OctetRuntime.warnOnce("djl-optimizer:" + optimizer.getClass().getName(), "DJL optimizer "
                            + optimizer.getClass().getName() + " is not one octet knows; DJL keeps its own state");
                }
                return;
            }
            OctetDjlOptimizer previous = BY_OPTIMIZER.get(optimizer);
            OctetDjlOptimizer o;
            if (previous != null && previous.trains(m)) {
                // A new trainer from the same configuration: DJL's optimizer object keeps its state and
                // update counts across trainers (keyed by parameter ids, which do not change), so octet
                // keeps its own.
                o = previous;
            } else {
                o = new OctetDjlOptimizer(math, m);
                o.pendingRestore = LOADED_FROM.get(model);
                if (previous != null) {
                    // The same optimizer object on another model: DJL starts fresh state for the new
                    // parameter ids, but its t (the largest update count it has seen) goes on.
                    o.numUpdate = previous.numUpdate;
                }
                BY_OPTIMIZER.put(optimizer, o);
            }
            BY_MODEL.put(model, o);
        } catch (RuntimeException | LinkageError e) {
            failed("trainer", e);
        }
    }

    /**
     * Replaces the body of {@code LocalParameterServer.update(id, grads, params)} when octet runs the
     * optimizer: returns true when it updated the parameter (and zeroed its gradient), false to let DJL.
     */
    public static boolean update(Object optimizer, String parameterId, Object[] grads, Object[] params) {
        OctetDjlOptimizer o = BY_OPTIMIZER.get(optimizer);
        if (o == null) {
            return false;
        }
        try {
            o.planIfNeeded(REPORT);
            if (params.length > 1) {
                NDArray[] g = new NDArray[grads.length];
                NDArray[] p = new NDArray[params.length];
                for (int i = 0; i < p.length; i++) {
                    g[i] = (NDArray) grads[i];
                    p[i] = (NDArray) params[i];
                }
                return o.updateReplicas(parameterId, g, p, REPORT);
            }
            return o.update(parameterId, (NDArray) grads[0], (NDArray) params[0], REPORT);
        } catch (RuntimeException | LinkageError e) {
            failed("update", e);
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
        try {
            for (OctetDjlOptimizer o : deferred) {
                o.launchGpuSteps();
            }
        } catch (RuntimeException | LinkageError e) {
            failed("GPU step", e);
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

    /** At the end of {@code BaseModel.save(modelPath, newModelName)}: octet's state beside the parameter file. */
    public static void modelSaved(Object model, Path modelPath, String newModelName) {
        OctetDjlOptimizer o = BY_MODEL.get(model);
        if (o == null) {
            return;
        }
        Model m = (Model) model;
        String name = newModelName == null || newModelName.isEmpty() ? m.getName() : newModelName;
        try {
            String epochValue = m.getProperty("Epoch");
            int epoch = epochValue == null ? Utils.getCurrentEpoch(modelPath, name) : Integer.parseInt(epochValue);
            Path paramFile = modelPath.resolve(String.format(Locale.ROOT, "%s-%04d.params", name, epoch));
            o.planIfNeeded(REPORT);
            DjlStateFile.write(DjlStateFile.beside(paramFile), o);
        } catch (IOException | RuntimeException e) {
            OctetRuntime.warnOnce("djl-save:" + modelPath, "could not save octet's optimizer state beside the model in "
                    + modelPath + " (" + e + "); resuming from this model will start with fresh optimizer state");
        }
    }

    /** At the end of {@code BaseModel.readParameters(paramFile, options)}. */
    public static void parametersRead(Object model, Path paramFile) {
        try {
            Path state = DjlStateFile.beside(paramFile);
            LOADED_FROM.put(model, state);
            OctetDjlOptimizer o = BY_MODEL.get(model);
            if (o != null && !o.planned()) {
                o.pendingRestore = state;
            }
            DjlStableEmbeddings.mark((Model) model);
        } catch (RuntimeException | LinkageError e) {
            failed("load", e);
        }
    }

    private static void failed(String where, Throwable e) {
        if (OctetRuntime.policy().onError() == Policy.OnError.FAIL) {
            throw new IllegalStateException("octet (DJL " + where + ") failed, and the policy says onError: fail", e);
        }
        OctetRuntime.warnOnce("djl-failed:" + where, "octet's DJL " + where + " hook failed (" + e
                + "); DJL's own optimizer goes on where octet cannot");
    }
}
