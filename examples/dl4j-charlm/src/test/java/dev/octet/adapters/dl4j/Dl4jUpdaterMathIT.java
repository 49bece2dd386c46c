package dev.octet.adapters.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.kernels.Float32State;
import dev.octet.kernels.FusedUpdate;
import dev.octet.kernels.KernelPool;
import java.nio.FloatBuffer;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.AMSGrad;
import org.nd4j.linalg.learning.config.AdaDelta;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.learning.config.AdaMax;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nadam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.linalg.schedule.StepSchedule;

/**
 * octet's DL4J updater math ({@link Dl4jUpdaterMath}: a kernels rule per DL4J updater, in libnd4j's
 * operation order) against DL4J's own updaters, in-process and in seconds: the same gradients through
 * DL4J's {@code GradientUpdater} and through octet's fused update over float32 state, step by step, with
 * schedules; the updates written into the gradient and the state after each step. (DL4J 1.0.0-M2.1 cannot
 * instantiate its own AdaBelief updater, so AdaBelief is checked only by the child-JVM tests' step bound.)
 * The slow child-JVM tests (Dl4jAgentIT) check the same through whole training runs. Here, beside the
 * example, rather than in the adapter's unit tests, so that CI's rerun against DL4J 1.0.0-M2 checks every
 * updater's math there too, in seconds.
 */
class Dl4jUpdaterMathIT {

    private static final int N = 1000;
    private static final int STEPS = 6;

    static Stream<IUpdater> updaters() {
        return Stream.of(new Adam(0.01), new Adam(new ExponentialSchedule(ScheduleType.ITERATION, 0.01, 0.8)),
                new Nadam(0.01), new AdaMax(0.01), new AMSGrad(0.01), new RmsProp(0.01), new AdaGrad(0.05),
                new AdaDelta(), new Nesterovs(0.05, 0.9),
                new Nesterovs(new StepSchedule(ScheduleType.ITERATION, 0.05, 0.5, 2), new StepSchedule(ScheduleType.ITERATION,
                        0.9, 0.5, 3)));
    }

    @ParameterizedTest
    @MethodSource("updaters")
    void octetsStepIsDl4jsOwn(IUpdater config) {
        Dl4jUpdaterMath math = Dl4jUpdaterMath.forConfig(config);
        long stateSize = config.stateSize(N);
        INDArray view = Nd4j.create(DataType.FLOAT, 1, stateSize);
        GradientUpdater<?> dl4j = config.instantiate(view, true);

        Float32State state = Float32State.allocate(N, math.statistics(config));
        assertEquals(stateSize, (long) state.statistics() * N, "the same state, in DL4J's order");
        float initial = math.initialValue().of(config);
        for (int k = 0; k < state.statistics(); k++) {
            state.fill(k, initial);
        }
        assertEquals(0, difference(view, state), "fresh state as DL4J starts it");

        Random random = new Random(5);
        FloatBuffer params = FloatBuffer.allocate(N); // untouched: the update goes into the gradient, as DL4J's does
        for (int iteration = 0; iteration < STEPS; iteration++) {
            float[] g = new float[N];
            for (int i = 0; i < N; i++) {
                g[i] = (float) (random.nextGaussian() * (i % 10 == 0 ? 10 : 0.1));
            }
            INDArray dl4jGradient = Nd4j.createFromArray(g).reshape(1, N);
            dl4j.applyUpdater(dl4jGradient, iteration, 0);
            FloatBuffer octetGradient = FloatBuffer.wrap(g.clone());
            FusedUpdate.apply(params, octetGradient, state, math.rule(config, iteration, 0), OctetUpdater.WRITE_UPDATE,
                    KernelPool.ofThreads(1));

            float[] expected = dl4jGradient.data().asFloat();
            double worst = 0;
            for (int i = 0; i < N; i++) {
                worst = Math.max(worst, relative(octetGradient.get(i), expected[i]));
            }
            assertTrue(worst <= 1e-6, config + " step " + iteration + ": update differs by " + worst + " (relative)");
            double stateDifference = difference(view, state);
            assertTrue(stateDifference <= 1e-6, config + " step " + iteration + ": state differs by " + stateDifference);
        }
    }

    /** The largest relative difference between DL4J's state view and octet's statistics. */
    private static double difference(INDArray view, Float32State state) {
        float[] dl4j = view.data().asFloat();
        double worst = 0;
        for (int k = 0; k < state.statistics(); k++) {
            for (int i = 0; i < N; i++) {
                worst = Math.max(worst, relative(state.values(k).get(i), dl4j[k * N + i]));
            }
        }
        return worst;
    }

    private static double relative(float actual, float expected) {
        return Math.abs((double) actual - expected) / Math.max(1e-12, Math.abs((double) expected));
    }
}
