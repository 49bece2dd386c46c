package dev.octet.agent.dl4j;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * octet stands aside where DL4J would average or copy updater state element by element in ways octet
 * does not convert yet: dl4j-spark's gradient sharing (its parameter server) or ParallelWrapper on the
 * class path of the loader that loaded DL4J, or only in the thread's context loader (Spark's executors
 * keep the job's jars in a child loader of the one that may hold DL4J). dl4j-spark's parameter averaging
 * alone is supported.
 */
class Dl4jUnsupportedSetupTest {

    private static final String SHARED = "org/deeplearning4j/spark/parameterserver/training/SharedTrainingMaster.class";

    private static ClassLoader holding(Path dir, String resource) throws Exception {
        Path file = dir.resolve(resource);
        Files.createDirectories(file.getParent());
        Files.write(file, new byte[0]);
        return new URLClassLoader(new URL[] {dir.toUri().toURL()}, null);
    }

    @Test
    void aPlainClassPathIsSupported() {
        assertNull(Dl4jInstrumentationModule.unsupportedSetup(new URLClassLoader(new URL[0], null)));
    }

    @Test
    void parameterAveragingAloneIsSupported(@TempDir Path spark) throws Exception {
        assertNull(Dl4jInstrumentationModule.unsupportedSetup(
                holding(spark, "org/deeplearning4j/spark/impl/paramavg/ParameterAveragingTrainingMaster.class")));
    }

    @Test
    void gradientSharingOrParallelWrapperBesideDl4j(@TempDir Path spark, @TempDir Path wrapper) throws Exception {
        String reason = Dl4jInstrumentationModule.unsupportedSetup(holding(spark, SHARED));
        assertTrue(reason.startsWith("dl4j-spark-parameterserver (gradient sharing) is on the class path"), reason);
        reason = Dl4jInstrumentationModule.unsupportedSetup(holding(wrapper, "org/deeplearning4j/parallelism/ParallelWrapper.class"));
        assertTrue(reason.startsWith("DL4J's ParallelWrapper is on the class path"), reason);
    }

    @Test
    void gradientSharingOnlyInTheContextLoader(@TempDir Path spark) throws Exception {
        ClassLoader job = holding(spark, SHARED);
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(job);
        try {
            String reason = Dl4jInstrumentationModule.unsupportedSetup(new URLClassLoader(new URL[0], null));
            assertTrue(reason != null && reason.startsWith("dl4j-spark-parameterserver"), String.valueOf(reason));
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
    }
}
