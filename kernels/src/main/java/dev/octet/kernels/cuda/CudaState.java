package dev.octet.kernels.cuda;

import dev.octet.kernels.OptimizerState;
import dev.octet.kernels.StatisticKind;

/**
 * Optimizer statistics of one tensor in GPU memory: 8-bit block-wise ({@link CudaQuantizedState}) or
 * float32 ({@link CudaFloat32State}, for the parameters a policy keeps 32-bit).
 */
public sealed interface CudaState extends AutoCloseable permits CudaQuantizedState, CudaFloat32State {

    long length();

    int statistics();

    StatisticKind kind(int statistic);

    /** Every statistic's kind, in order. */
    default StatisticKind[] kinds() {
        StatisticKind[] kinds = new StatisticKind[statistics()];
        for (int k = 0; k < kinds.length; k++) {
            kinds[k] = kind(k);
        }
        return kinds;
    }

    /** Device bytes the state occupies. */
    long bytes();

    /** The backend of the GPU the state lives on. */
    CudaBackend cuda();

    /** An empty host state of this state's format (length, statistics, block size). */
    OptimizerState newHostState();

    /** Copies a host state of this state's format ({@link #newHostState}) to the GPU. */
    void upload(OptimizerState host);

    /** Copies the GPU state into a host state of its format ({@link #newHostState}). */
    void download(OptimizerState host);

    @Override
    void close();
}
