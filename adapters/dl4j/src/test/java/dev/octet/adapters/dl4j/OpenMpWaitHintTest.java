package dev.octet.adapters.dl4j;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class OpenMpWaitHintTest {

    @Test
    void advisesOnlyWhereTheDefaultPolicyMeetsMoreThanOneThread() {
        assertTrue(OpenMpWaitHint.applies(Map.of(), 2));
        assertTrue(OpenMpWaitHint.applies(Map.of("OMP_NUM_THREADS", "4"), 1));
        assertTrue(OpenMpWaitHint.applies(Map.of("OMP_NUM_THREADS", " 4,2 "), 8));
        assertFalse(OpenMpWaitHint.applies(Map.of(), 1), "one core: nothing to hold");
        assertFalse(OpenMpWaitHint.applies(Map.of("OMP_NUM_THREADS", "1"), 16));
        assertFalse(OpenMpWaitHint.applies(Map.of("OMP_WAIT_POLICY", "PASSIVE"), 16));
        assertFalse(OpenMpWaitHint.applies(Map.of("OMP_WAIT_POLICY", "active"), 16), "a choice the user made");
        assertFalse(OpenMpWaitHint.applies(Map.of("OMP_NUM_THREADS", "many"), 16), "not a number OpenMP would take");
    }
}
