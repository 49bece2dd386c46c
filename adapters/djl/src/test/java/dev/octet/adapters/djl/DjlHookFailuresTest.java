package dev.octet.adapters.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.training.TrainingConfig;
import ai.djl.training.optimizer.Optimizer;
import dev.octet.adapters.core.CapturedStandardError;
import dev.octet.adapters.core.OctetFailure;
import dev.octet.adapters.core.OctetRuntime;
import dev.octet.policy.PolicyParser;
import java.lang.reflect.Proxy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * DJL's hooks when they fail, called in-process (a model that throws where octet asks it something):
 * that model goes to DJL's own optimizer for good, with one warning; with {@code onError: fail} the job stops.
 */
class DjlHookFailuresTest {

    @RegisterExtension
    final CapturedStandardError err = new CapturedStandardError();

    /** A model named {@code name} without a block; {@code getBlock} throws where {@code failing}. */
    private static Model model(String name, boolean failing) {
        return (Model) Proxy.newProxyInstance(Model.class.getClassLoader(), new Class<?>[] {Model.class}, (proxy, m, args) -> {
            switch (m.getName()) {
                case "getName":
                    return name;
                case "getBlock":
                    if (failing) {
                        throw new IllegalStateException("block failed");
                    }
                    return null;
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "equals":
                    return proxy == args[0];
                default:
                    return m.getReturnType() == boolean.class ? false : null;
            }
        });
    }

    private static TrainingConfig config(Optimizer optimizer) {
        return (TrainingConfig) Proxy.newProxyInstance(TrainingConfig.class.getClassLoader(), new Class<?>[] {TrainingConfig.class},
                (proxy, m, args) -> m.getName().equals("getOptimizer") ? optimizer : null);
    }

    @Test
    void aTrainerHookThatFailsLeavesTheModelToDjlForGood() {
        Model model = model("broken", true);
        Optimizer adam = Optimizer.adam().build();
        DjlHooks.trainerCreated(model, config(adam));
        DjlHooks.trainerCreated(model, config(adam));
        assertTrue(DjlHooks.standsAside(model));
        assertNull(DjlHooks.running(adam), "nothing of octet's is left for this optimizer");
        assertFalse(DjlHooks.update(adam, "w", new NDArray[1], new NDArray[1]), "DJL updates");
        String out = err.printed();
        assertTrue(out.contains("[octet] WARNING: octet's DJL trainer hook failed (java.lang.IllegalStateException: block failed);"
                + " DJL's own optimizer trains the model broken from here on"), out);
        assertEquals(1, out.split("WARNING", -1).length - 1, out);
    }

    @Test
    void anUpdateThatFailsHandsTheModelToDjlsOwnOptimizer() {
        Model model = model("plain", false);
        Optimizer adam = Optimizer.adam().build();
        DjlHooks.trainerCreated(model, config(adam));
        assertNotNull(DjlHooks.running(adam), "octet runs this optimizer");
        // No arrays where DJL always gives one: the update fails inside octet.
        assertFalse(DjlHooks.update(adam, "w", new NDArray[1], new NDArray[1]), "DJL updates instead");
        assertNull(DjlHooks.running(adam), "and goes on doing so");
        assertTrue(DjlHooks.standsAside(model));
        assertTrue(err.printed().contains("octet's DJL update hook failed ("), err.printed());
    }

    @Test
    void underOnErrorFailAFailingHookStopsTheJob() {
        OctetRuntime.install(PolicyParser.parse("onError: fail\n", "fail.yaml"));
        OctetFailure stop = assertThrows(OctetFailure.class,
                () -> DjlHooks.trainerCreated(model("stopping", true), config(Optimizer.adam().build())));
        assertTrue(stop.getMessage().startsWith("octet's DJL trainer hook failed (java.lang.IllegalStateException: block failed)"),
                stop.getMessage());
    }
}
