package dev.octet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every agent setting is checked before the job starts, with one message that says what to write instead. */
class AgentConfigTest {

    private static final List<String> MODULES = List.of("dl4j", "djl");

    private static String error(String args, Map<String, String> properties, Map<String, String> environment) {
        return assertThrows(IllegalArgumentException.class,
                () -> AgentConfig.of(args, properties, environment, MODULES)).getMessage();
    }

    @Test
    void misspelledKeysNameTheNearestKnownOne() {
        String message = error("polcy=model.yaml", Map.of(), Map.of());
        assertTrue(message.contains("agent argument 'polcy'") && message.contains("did you mean 'policy'?"), message);
        assertTrue(message.contains("dl4j.enabled") && message.contains("threads"), "lists the settings: " + message);
        assertTrue(error("Policy=model.yaml", Map.of(), Map.of()).contains("did you mean 'policy'?"));
        String property = error(null, Map.of("octet.polciy", "model.yaml"), Map.of());
        assertTrue(property.contains("-Doctet.polciy") && property.contains("did you mean 'octet.policy'?"), property);
        assertTrue(error("dl4j.enable=false", Map.of(), Map.of()).contains("did you mean 'dl4j.enabled'?"));
        assertTrue(error("colour=red", Map.of(), Map.of()).contains("octet does not know the agent argument 'colour'"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"enabled=no", "dl4j.enabled=0", "debug=yes", "threads=0", "threads=-1", "threads=100000",
        "threads=abc", "threads=", "cuda.threads=100", "cuda.device=-2", "policy= ", "cpu.codec=simd"})
    void badValuesSayWhatTheSettingTakes(String argument) {
        String message = error(argument, Map.of(), Map.of());
        assertTrue(message.contains("it takes"), message);
    }

    @Test
    void propertiesAndEnvironmentAreCheckedToo() {
        assertTrue(error(null, Map.of("octet.threads", "abc"), Map.of()).contains("-Doctet.threads is 'abc'; it takes a whole"));
        assertTrue(error(null, Map.of(), Map.of("OCTET_ENABLED", "nope")).contains("environment variable OCTET_ENABLED"));
        // Other system properties and environment variables are none of octet's business.
        AgentConfig.of(null, Map.of("java.home", "/x", "octetx", "1"), Map.of("OCTET_HOME", "/opt/octet"), MODULES);
    }

    @Test
    void theFidelityStudysExperimentSwitchesAreLeftToTheKernels() {
        // Not settings for users (dev.octet.kernels.Experiment checks them); they must not stop the job.
        AgentConfig.of(null, Map.of("octet.experiment.map", "linear", "octet.experiment.scaling", "tensor"), Map.of(), MODULES);
        assertTrue(error(null, Map.of("octet.experiment.mpa", "linear"), Map.of()).contains("-Doctet.experiment.mpa"));
    }

    @Test
    void theCpuCodecIsASettingHandedOnToTheKernels() {
        AgentConfig config = AgentConfig.of("cpu.codec=scalar", Map.of(), Map.of(), MODULES);
        assertEquals("scalar", config.handedOn().get("octet.cpu.codec"));
        AgentConfig.of(null, Map.of("octet.cpu.codec", "vector", "octet.cpu.vectorBits", "256"), Map.of(), MODULES);
        assertTrue(error(null, Map.of(), Map.of("OCTET_CPU_CODEC", "fast")).contains("auto, scalar or vector"));
    }

    @Test
    void aQuotedValueHoldsCommas() {
        AgentConfig config = AgentConfig.of("policy=\"/models/a,b.yaml\",threads=2", Map.of(), Map.of(), MODULES);
        assertEquals(Path.of("/models/a,b.yaml"), config.policyFile());
        assertEquals(Map.of("octet.threads", "2"), config.handedOn());
        assertTrue(error("policy=\"a,b.yaml", Map.of(), Map.of()).contains("open a double quote"));
        assertTrue(error("threads=1,threads=2", Map.of(), Map.of()).contains("given twice"));
    }

    @Test
    void precedenceIsArgumentThenPropertyThenEnvironment() {
        AgentConfig config = AgentConfig.of("threads=3", Map.of("octet.threads", "2", "octet.dl4j.enabled", "FALSE"),
                Map.of("OCTET_THREADS", "1", "OCTET_POLICY", "env.yaml"), MODULES);
        assertEquals("3", config.get("threads"));
        assertEquals(Path.of("env.yaml"), config.policyFile());
        assertTrue(!config.enabled("dl4j.enabled") && config.enabled("djl.enabled"));
        assertEquals(Map.of("octet.threads", "3"), config.handedOn(), "the kernels read the winning value");
    }

    @Test
    void identityTellsTwoAgentsApart() {
        String a = AgentConfig.of("policy=a.yaml", Map.of(), Map.of(), MODULES).identity();
        assertEquals(a, AgentConfig.of("policy=./a.yaml", Map.of(), Map.of(), MODULES).identity());
        assertTrue(!a.equals(AgentConfig.of("policy=b.yaml", Map.of(), Map.of(), MODULES).identity()));
    }
}
