package dev.octet.agent.dl4j;

import dev.octet.adapters.dl4j.Dl4jCheckpoints;
import net.bytebuddy.asm.Advice;

/** Inlined into {@code BaseMultiLayerUpdater.setStateViewArray(INDArray)}: restores octet's state itself. */
final class StateRestoreAdvice {

    private StateRestoreAdvice() {
    }

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
    static boolean enter(@Advice.FieldValue("updaterStateViewArray") Object current, @Advice.Argument(0) Object given) {
        return Dl4jCheckpoints.applyState(current, given);
    }
}
