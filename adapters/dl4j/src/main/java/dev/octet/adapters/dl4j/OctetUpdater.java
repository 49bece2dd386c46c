package dev.octet.adapters.dl4j;

import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * What octet's updaters of a DL4J update group (on the CPU, on the GPU) share: DL4J's configuration of
 * the group; the configurations its parameters step with (DL4J's, or a copy with a policy rule's
 * overrides), each parameter pointing at one of the distinct ones, its slot; and a state bound once when
 * the group is created, which DL4J's float-array accessors cannot see into (DL4J's updater code calls
 * none of them on octet's updaters).
 */
abstract class OctetUpdater implements GradientUpdater<IUpdater> {

    /** DL4J's updaters write the update into the gradient; DL4J subtracts it from the parameters. */
    static final StepOptions WRITE_UPDATE = StepOptions.DEFAULT.withOutput(StepOptions.Output.WRITE_UPDATE_TO_GRADIENT);

    private final IUpdater config;
    private final Dl4jUpdaterMath math;
    /** The distinct configurations of the group's parameters. */
    private final IUpdater[] configs;
    /** Per parameter, the index of its configuration in {@link #configs}. */
    final int[] slots;

    /**
     * @param config DL4J's configuration of the group (what {@link #getConfig} answers)
     * @param paramConfigs per parameter, the configuration octet steps it with
     */
    OctetUpdater(IUpdater config, List<IUpdater> paramConfigs, Dl4jUpdaterMath math) {
        this.config = config;
        this.math = math;
        List<IUpdater> distinct = new ArrayList<>();
        this.slots = new int[paramConfigs.size()];
        for (int j = 0; j < slots.length; j++) {
            int slot = distinct.indexOf(paramConfigs.get(j));
            if (slot < 0) {
                slot = distinct.size();
                distinct.add(paramConfigs.get(j));
            }
            slots[j] = slot;
        }
        this.configs = distinct.toArray(new IUpdater[0]);
    }

    /** This step's rule of each slot. */
    final UpdateRule[] rules(int iteration, int epoch) {
        UpdateRule[] rules = new UpdateRule[configs.length];
        for (int i = 0; i < rules.length; i++) {
            rules[i] = math.rule(configs[i], iteration, epoch);
        }
        return rules;
    }

    /** The value DL4J gives a fresh state of parameter {@code j}. */
    final float initialValue(int j) {
        return math.initialValue().of(configs[slots[j]]);
    }

    @Override
    public final IUpdater getConfig() {
        return config;
    }

    @Override
    public final void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        throw new UnsupportedOperationException("octet binds its state view when the update group is created");
    }

    @Override
    public final void setState(Map<String, INDArray> stateMap, boolean initialize) {
        throw new UnsupportedOperationException("octet's 8-bit state is not a map of float arrays");
    }

    @Override
    public final Map<String, INDArray> getState() {
        return new HashMap<>();
    }
}
