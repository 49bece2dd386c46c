package dev.octet.adapters.dl4j;

import dev.octet.adapters.core.CudaUpdateGroup;
import dev.octet.adapters.core.PackedStateLayout;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * {@link OctetGroupUpdater} for ND4J's CUDA backend: the same formula and the same state layout in the
 * same state view, updated by octet's CUDA kernels in the GPU's copy of DL4J's arrays, on ND4J's own
 * stream (so the kernel runs after the ops that made the gradient and before DL4J's subtraction). The
 * update goes into the gradient, as DL4J's own updaters write it.
 */
final class OctetCudaGroupUpdater extends OctetUpdater {

    private final Nd4jCudaMemory nd4j;
    private final INDArray stateView;
    private final INDArray[] paramViews;
    private final CudaUpdateGroup group;

    OctetCudaGroupUpdater(IUpdater config, List<IUpdater> paramConfigs, Dl4jUpdaterMath math, PackedStateLayout.Group layout,
            List<INDArray> paramViews, INDArray stateView, boolean initialize, Nd4jCudaMemory nd4j) {
        super(config, paramConfigs, math);
        this.nd4j = nd4j;
        this.stateView = stateView;
        this.paramViews = paramViews.toArray(new INDArray[0]);
        nd4j.onDevice(this.paramViews);
        nd4j.onDevice(stateView);
        long[] params = new long[this.paramViews.length];
        for (int j = 0; j < params.length; j++) {
            params[j] = nd4j.address(this.paramViews[j]);
        }
        this.group = new CudaUpdateGroup(nd4j.cuda(), layout, nd4j.address(stateView), params, slots);
        if (initialize) {
            float[] initial = new float[slots.length];
            for (int j = 0; j < initial.length; j++) {
                initial[j] = initialValue(j);
            }
            group.initialize(initial);
            nd4j.deviceWrote(stateView);
        }
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        nd4j.onDevice(gradient);
        nd4j.onDevice(stateView);
        nd4j.onDevice(paramViews);
        group.step(rules(iteration, epoch), WRITE_UPDATE, nd4j.address(gradient), nd4j.stream());
        nd4j.deviceWrote(gradient);
        nd4j.deviceWrote(stateView);
    }
}
