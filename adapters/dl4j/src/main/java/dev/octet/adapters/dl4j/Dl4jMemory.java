package dev.octet.adapters.dl4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ND4J arrays seen as NIO buffers over their host memory, never copied. On the CPU backend that is the
 * array's only memory; on the CUDA backend ND4J first makes the host copy current (and a writer says
 * so afterwards with {@link #hostWrote}); both calls do nothing on the CPU backend.
 */
final class Dl4jMemory {

    private Dl4jMemory() {
    }

    /**
     * The bytes of a float32 (or, for saved state, int32) array; {@code data().addressPointer()} already
     * accounts for a view's offset.
     */
    static ByteBuffer bytes(INDArray array) {
        if (array.dataType() != DataType.FLOAT && array.dataType() != DataType.INT) {
            throw new IllegalArgumentException("octet handles float32 networks; this array is " + array.dataType());
        }
        if (array.length() > 0 && array.elementWiseStride() != 1) {
            throw new IllegalArgumentException("octet needs contiguous arrays; this one has element-wise stride "
                    + array.elementWiseStride());
        }
        Nd4j.getAffinityManager().ensureLocation(array, AffinityManager.Location.HOST);
        Pointer address = array.data().addressPointer();
        long bytes = 4L * array.length();
        return new BytePointer(address).capacity(bytes).limit(bytes).asByteBuffer().order(ByteOrder.nativeOrder());
    }

    static FloatBuffer floats(INDArray array) {
        return bytes(array).asFloatBuffer();
    }

    /** Records that the host copy of an array was written through {@link #bytes} (ND4J's CUDA backend). */
    static void hostWrote(INDArray array) {
        Nd4j.getAffinityManager().tagLocation(array, AffinityManager.Location.HOST);
    }
}
