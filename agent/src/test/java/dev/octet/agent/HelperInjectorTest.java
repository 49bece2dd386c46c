package dev.octet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Helpers are defined in the framework's class loader one by one, and a class can only be defined
 * after its superclass and interfaces: the injector orders them so, whatever their names.
 */
class HelperInjectorTest {

    interface ZInterface {
    }

    abstract static class YBase implements ZInterface {
    }

    static final class ADerived extends YBase {
    }

    @Test
    void supertypesAreDefinedFirst() throws IOException {
        Map<String, byte[]> byName = new TreeMap<>();
        for (Class<?> c : List.of(ADerived.class, YBase.class, ZInterface.class)) {
            try (InputStream in = c.getResourceAsStream(c.getName().substring(c.getName().lastIndexOf('.') + 1) + ".class")) {
                byName.put(c.getName(), in.readAllBytes());
            }
        }
        assertEquals(List.of(ADerived.class.getName(), YBase.class.getName(), ZInterface.class.getName()),
                List.copyOf(byName.keySet()), "by name the subclass comes first");
        assertEquals(List.of(ZInterface.class.getName(), YBase.class.getName(), ADerived.class.getName()),
                List.copyOf(HelperInjector.supertypesFirst(byName).keySet()));
    }
}
