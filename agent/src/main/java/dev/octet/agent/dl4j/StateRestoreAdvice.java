package dev.octet.agent.dl4j;

import dev.octet.adapters.dl4j.Dl4jCheckpoints;
import net.bytebuddy.asm.Advice;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Inlined into {@code BaseMultiLayerUpdater.setStateViewArray(INDArray)}: restores octet's state itself. */
final class StateRestoreAdvice {

    private StateRestoreAdvice() {
    }

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    static boolean enter(@Advice.FieldValue("updaterStateViewArray") INDArray current, @Advice.Argument(0) INDArray given) {
        return Dl4jCheckpoints.applyState(current, given);
    }
}
