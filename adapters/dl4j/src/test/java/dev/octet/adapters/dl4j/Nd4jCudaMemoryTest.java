package dev.octet.adapters.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Modifier;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/**
 * octet reaches ND4J's CUDA backend by reflection (it builds against nd4j-api only); here the classes and
 * methods it calls are looked up in the real nd4j-cuda-11.6 1.0.0-M2.1 jar (its Java classes; nothing is
 * initialized and no CUDA is needed), so a renamed or re-typed member fails the build, not a user's job.
 */
class Nd4jCudaMemoryTest {

    @Test
    void theMembersOctetCallsExistInNd4jCuda() throws ReflectiveOperationException {
        Nd4jCudaMemory.Api api = Nd4jCudaMemory.Api.resolve(getClass().getClassLoader());
        assertTrue(Modifier.isStatic(api.allocatorInstance().getModifiers()), "AtomicAllocator.getInstance() is static");
        assertEquals("org.nd4j.linalg.jcublas.context.CudaContext", api.deviceContext().getReturnType().getName());
        assertTrue(Pointer.class.isAssignableFrom(api.pointerOf().getReturnType()), "getPointer returns a javacpp Pointer");
        assertTrue(Pointer.class.isAssignableFrom(api.cublasStream().getReturnType()),
                "getCublasStream returns a javacpp Pointer");
        assertEquals(long.class, api.address().getReturnType());
    }
}
