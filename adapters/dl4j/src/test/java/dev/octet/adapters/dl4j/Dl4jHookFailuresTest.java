package dev.octet.adapters.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.adapters.core.CapturedStandardError;
import dev.octet.adapters.core.OctetFailure;
import dev.octet.adapters.core.OctetRuntime;
import dev.octet.policy.PolicyParser;
import java.lang.reflect.Proxy;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.TrainingConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * DL4J's hooks when they fail, called in-process in the order {@code BaseMultiLayerUpdater}'s constructor
 * calls them (a network and layer configurations that throw where octet asks them something): before
 * octet answered a state size of its own the whole network stays on DL4J's updater, with one warning;
 * after that the job stops; with {@code onError: fail} it stops either way.
 */
class Dl4jHookFailuresTest {

    private static final long ELEMENTS = 10_000; // 8-bit under the default policy: octet's size differs from DL4J's

    @RegisterExtension
    final CapturedStandardError err = new CapturedStandardError();

    @AfterEach
    void dropUnfinishedConstruction() {
        Dl4jHooks.constructionEnds(null, null); // drops what a test left under construction
    }

    /** A network whose parameters are float32 ({@code params()} null, as before init), or whose {@code params()} throws. */
    private static Model network(boolean failing) {
        return (Model) Proxy.newProxyInstance(Model.class.getClassLoader(), new Class<?>[] {Model.class}, (proxy, m, args) -> {
            if (m.getName().equals("params") && failing) {
                throw new IllegalStateException("params failed");
            }
            return defaultOf(m.getReturnType());
        });
    }

    /** A layer configuration with Adam for every parameter; {@code getLayerName} throws where {@code failing}. */
    private static TrainingConfig layer(String name, boolean failing) {
        return (TrainingConfig) Proxy.newProxyInstance(TrainingConfig.class.getClassLoader(), new Class<?>[] {TrainingConfig.class},
                (proxy, m, args) -> switch (m.getName()) {
                    case "getLayerName" -> {
                        if (failing) {
                            throw new IllegalStateException("layer name failed");
                        }
                        yield name;
                    }
                    case "getUpdaterByParam" -> new Adam();
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> defaultOf(m.getReturnType());
                });
    }

    private static Object defaultOf(Class<?> type) {
        if (type == boolean.class) {
            return false;
        }
        if (type == long.class) {
            return 0L;
        }
        if (type == int.class) {
            return 0;
        }
        if (type == double.class) {
            return 0.0;
        }
        return null;
    }

    /** What DL4J's constructor does for one parameter: asks its updater, then the state size. */
    private static long stateSize(TrainingConfig layer) {
        IUpdater updater = Dl4jHooks.updaterByParam(layer, "W");
        return Dl4jHooks.stateSize(updater, ELEMENTS);
    }

    @Test
    void aFailureBeforeTheLayoutLeavesTheWholeNetworkToDl4j() {
        Dl4jHooks.constructionStarts(network(true), null);
        assertEquals(2 * ELEMENTS, stateSize(layer("dense", false)), "DL4J's own size for Adam");
        assertEquals(2 * ELEMENTS, stateSize(layer("dense2", false)));
        assertFalse(Dl4jHooks.initUpdateGroup(new Object(), null), "DL4J creates its own updater");
        Dl4jHooks.constructionEnds(null, null);
        String out = err.printed();
        assertTrue(out.contains("[octet] WARNING: octet's DL4J updater layout hook failed (java.lang.IllegalStateException: params"
                + " failed); DL4J's own updater keeps the optimizer state of this "), out);
        assertEquals(1, out.split("WARNING", -1).length - 1, out);
    }

    @Test
    void aStateSizeThatFailsBeforeOctetResizedAnythingLeavesTheNetworkToDl4j() {
        Dl4jHooks.constructionStarts(network(false), null);
        assertEquals(2 * ELEMENTS, stateSize(layer("embed", true)));
        assertEquals(2 * ELEMENTS, stateSize(layer("dense", false)), "octet stands aside for the rest of the network too");
        assertFalse(Dl4jHooks.initUpdateGroup(new Object(), null));
        assertTrue(err.printed().contains("octet's DL4J state size hook failed (java.lang.IllegalStateException: layer name failed);"
                + " DL4J's own updater keeps this network's optimizer state, 32-bit"), err.printed());
    }

    @Test
    void aStateSizeThatFailsAfterOctetResizedOneStopsTheJobEvenUnderWarn() {
        Dl4jHooks.constructionStarts(network(false), null);
        assertNotEquals(2 * ELEMENTS, stateSize(layer("dense", false)), "8-bit: octet's layout");
        OctetFailure stop = assertThrows(OctetFailure.class, () -> stateSize(layer("dense2", true)));
        assertTrue(stop.getMessage().contains("after it sized part of this network's optimizer state for 8 bits, which DL4J cannot"
                + " use by itself; the job cannot go on"), stop.getMessage());
    }

    @Test
    void underOnErrorFailAHookFailureStopsTheJob() {
        OctetRuntime.install(PolicyParser.parse("onError: fail\n", "fail.yaml"));
        OctetFailure stop = assertThrows(OctetFailure.class, () -> Dl4jHooks.constructionStarts(network(true), null));
        assertTrue(stop.getMessage().startsWith("octet's DL4J updater layout hook failed (java.lang.IllegalStateException: params"
                + " failed)"), stop.getMessage());
        Dl4jHooks.constructionEnds(null, null);
        Dl4jHooks.constructionStarts(network(false), null);
        assertThrows(OctetFailure.class, () -> stateSize(layer("embed", true)));
    }
}
