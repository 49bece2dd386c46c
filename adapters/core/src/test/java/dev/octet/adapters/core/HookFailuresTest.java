package dev.octet.adapters.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.policy.Policy;
import dev.octet.policy.PolicyParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The one failure policy of octet's hooks: warn once and stand aside, or stop the job with onError: fail. */
class HookFailuresTest {

    @RegisterExtension
    final CapturedStandardError err = new CapturedStandardError();

    @Test
    void underWarnAFailingHookWarnsOncePerHookAndKindOfFailure() {
        OctetRuntime.install(PolicyParser.parse("onError: warn\n", "warn.yaml"));
        for (int i = 0; i < 3; i++) {
            HookFailures.standAside("Test", "warn-once", new IllegalStateException("boom " + i), "the framework goes on");
        }
        HookFailures.standAside("Test", "warn-once", new ArithmeticException("other"), "the framework goes on");
        String out = err.printed();
        assertEquals(1, err.count("octet's Test warn-once hook failed (java.lang.IllegalStateException: boom 0); the framework goes on"), out);
        assertEquals(0, err.count("boom 1"), out);
        assertEquals(1, err.count("java.lang.ArithmeticException: other"), out);
    }

    @Test
    void underFailAFailingHookStopsTheJobWithTheReason() {
        OctetRuntime.install(PolicyParser.parse("onError: fail\n", "fail.yaml"));
        IllegalStateException cause = new IllegalStateException("boom");
        OctetFailure stop = assertThrows(OctetFailure.class,
                () -> HookFailures.standAside("Test", "fail-stops", cause, "the framework goes on"));
        assertSame(cause, stop.getCause());
        assertTrue(stop.getMessage().contains("octet's Test fail-stops hook failed (java.lang.IllegalStateException: boom)"),
                stop.getMessage());
        assertTrue(err.printed().contains("[octet] octet's Test fail-stops hook failed"), err.printed());
    }

    @Test
    void aFailureAfterOctetTookOverStateStopsTheJobEvenUnderWarn() {
        OctetRuntime.install(Policy.defaults());
        OctetFailure stop = HookFailures.cannotGoBack("Test", "late", new IllegalStateException("boom"), "it laid out the state");
        assertTrue(stop.getMessage().contains("after it laid out the state, which Test cannot use by itself; the job cannot go on"),
                stop.getMessage());
    }

    @Test
    void aStopFromANestedHookGoesOnUpUnchanged() {
        OctetRuntime.install(PolicyParser.parse("onError: fail\n", "fail.yaml"));
        OctetFailure inner = assertThrows(OctetFailure.class, () -> OctetRuntime.unsupported("k", "not handled"));
        assertEquals("not handled, and the policy says onError: fail", inner.getMessage());
        OctetRuntime.install(Policy.defaults());
        assertSame(inner, assertThrows(OctetFailure.class, () -> HookFailures.standAside("Test", "outer", inner, "-")));
        assertSame(inner, HookFailures.cannotGoBack("Test", "outer", inner, "-"));
    }

    @Test
    void unsupportedUnderWarnWarnsOnceAndReturns() {
        OctetRuntime.install(Policy.defaults());
        OctetRuntime.unsupported("unsupported-test", "a setup octet does not handle");
        OctetRuntime.unsupported("unsupported-test", "a setup octet does not handle");
        assertEquals(1, err.count("[octet] WARNING: a setup octet does not handle"), err.printed());
    }
}
