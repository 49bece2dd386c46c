package dev.octet.agent.dl4j;

import dev.octet.adapters.dl4j.Dl4jSpark;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into dl4j-spark's {@code ParameterAveragingTrainingMaster.getWorkerInstance(sparkNetwork)}, on
 * the driver before each averaging round. Not suppressed: a mismatch under {@code onError: fail} stops
 * the job there.
 */
final class SparkDriverRoundAdvice {

    private SparkDriverRoundAdvice() {
    }

    @Advice.OnMethodEnter
    static void enter(@Advice.Argument(0) Object sparkNetwork) {
        Dl4jSpark.driverRound(sparkNetwork);
    }
}
