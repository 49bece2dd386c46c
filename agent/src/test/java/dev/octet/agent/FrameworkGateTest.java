package dev.octet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.octet.agent.FrameworkGate.Requirement;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Where a framework's version is not recorded, the gate reads the class files of what octet relies on. */
class FrameworkGateTest {

    private static FrameworkGate gate(Requirement... probe) {
        return new FrameworkGate("Test", "test", "no/such/version.properties", "version", Set.of("1.0"), "dev.octet.none.",
                loader -> null, List.of(probe));
    }

    @Test
    void findsMethodsConstructorsAndFieldsAlsoInSupertypes() {
        ClassLoader loader = getClass().getClassLoader();
        assertNull(gate(Requirement.method("java.util.ArrayList", "<init>", 1),
                Requirement.method("java.util.ArrayList", "add", 2),
                Requirement.method("java.util.ArrayList", "hashCode", 0),        // declared by AbstractList
                Requirement.field("java.util.ArrayList", "size"),
                Requirement.field("java.util.ArrayList", "modCount"),            // declared by AbstractList
                Requirement.method("java.util.List", "size", 0)).firstMissing(loader));
    }

    @Test
    void namesTheFirstThingThatIsNotThere() {
        ClassLoader loader = getClass().getClassLoader();
        Requirement wrongArity = Requirement.method("java.util.ArrayList", "add", 5);
        assertEquals(wrongArity, gate(Requirement.method("java.util.ArrayList", "add", 1), wrongArity).firstMissing(loader));
        Requirement noClass = Requirement.method("org.example.Missing", "run", 0);
        assertEquals(noClass, gate(noClass).firstMissing(loader));
        Requirement noField = Requirement.field("java.util.ArrayList", "nope");
        assertEquals(noField, gate(noField).firstMissing(loader));
        // A constructor is the class's own: a superclass's does not count.
        Requirement inheritedConstructor = Requirement.method("java.util.ArrayList", "<init>", 3);
        assertEquals(inheritedConstructor, gate(inheritedConstructor).firstMissing(loader));
        assertEquals("java.util.ArrayList.add with 5 parameters", wrongArity.toString());
    }
}
