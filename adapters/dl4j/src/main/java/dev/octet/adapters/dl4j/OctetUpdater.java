package dev.octet.adapters.dl4j;

import dev.octet.kernels.StepOptions;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * What octet's updaters of a DL4J update block (on the CPU, on the GPU) share: DL4J's configuration of
 * the block, and a state bound once when the block is created, which DL4J's float-array accessors
 * cannot see into (DL4J's updater code calls none of them on octet's updaters).
 */
abstract class OctetUpdater implements GradientUpdater<IUpdater> {

    /** DL4J's updaters write the update into the gradient; DL4J subtracts it from the parameters. */
    static final StepOptions WRITE_UPDATE = StepOptions.DEFAULT.withOutput(StepOptions.Output.WRITE_UPDATE_TO_GRADIENT);

    private final IUpdater config;

    OctetUpdater(IUpdater config) {
        this.config = config;
    }

    @Override
    public final IUpdater getConfig() {
        return config;
    }

    @Override
    public final void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        throw new UnsupportedOperationException("octet binds its state view when the updater block is created");
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
