package dev.octet.agent.dl4j;

import dev.octet.adapters.dl4j.Dl4jSpark;
import net.bytebuddy.asm.Advice;

/**
 * Inlined into dl4j-spark's {@code ParameterAveragingTrainingWorker.getInitialModel()} and
 * {@code getInitialModelGraph()}, on an executor as a task builds its network. Not suppressed: a
 * mismatch under {@code onError: fail} fails the task with the reason.
 */
final class SparkExecutorTaskAdvice {

    private SparkExecutorTaskAdvice() {
    }

    @Advice.OnMethodEnter
    static void enter() {
        Dl4jSpark.executorTask();
    }
}
