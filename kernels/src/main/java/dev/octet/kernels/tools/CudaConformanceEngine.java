package dev.octet.kernels.tools;

import dev.octet.kernels.QuantizationMap;
import dev.octet.kernels.QuantizedState;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import dev.octet.kernels.conformance.Conformance;
import dev.octet.kernels.cuda.CudaBackend;
import dev.octet.kernels.cuda.CudaQuantizedState;
import dev.octet.kernels.cuda.CudaQuantizer;
import dev.octet.kernels.cuda.CudaTensorGroup;
import java.util.List;

/**
 * The conformance check run on the GPU: inputs and the reference's previous state are copied to the
 * device, the CUDA kernels run (one launch, octet's own stream), and the results are copied back.
 */
public final class CudaConformanceEngine implements Conformance.Engine {

    private final CudaBackend cuda;
    private final long stream;

    public CudaConformanceEngine(CudaBackend cuda) {
        this.cuda = cuda;
        this.stream = cuda.createStream();
    }

    @Override
    public void quantize(QuantizationMap map, int blockSize, float[] input, byte[] codes, float[] absmax) {
        long n = input.length;
        long blocks = QuantizedState.blocks(input.length, blockSize);
        long src = cuda.allocate(4 * n);
        long c = cuda.allocate(n);
        long a = cuda.allocate(4 * blocks);
        try {
            cuda.copyToDevice(src, input);
            new CudaQuantizer(cuda, map, blockSize).quantize(src, n, c, a, stream);
            cuda.copyToHost(codes, 0, codes.length, c);
            cuda.copyToHost(absmax, a);
        } finally {
            cuda.free(src);
            cuda.free(c);
            cuda.free(a);
        }
    }

    @Override
    public void update(float[] params, float[] grad, QuantizedState state, UpdateRule rule) {
        StatisticKind[] kinds = rule.statistics();
        long p = cuda.allocate(4L * params.length);
        long g = cuda.allocate(4L * grad.length);
        try (CudaQuantizedState s = CudaQuantizedState.allocate(cuda, state.length(), state.blockSize(), kinds)) {
            cuda.copyToDevice(p, params);
            cuda.copyToDevice(g, grad);
            s.upload(state);
            try (CudaTensorGroup group = new CudaTensorGroup(cuda, List.of(new CudaTensorGroup.Entry(p, g, s)))) {
                group.step(rule, StepOptions.DEFAULT, stream);
                cuda.synchronize(stream);
            }
            cuda.copyToHost(params, p);
            s.download(state);
        } finally {
            cuda.free(p);
            cuda.free(g);
        }
    }
}
