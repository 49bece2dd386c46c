package dev.octet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.adapters.core.CapturedStandardError;
import dev.octet.agent.Framework.Requirement;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Where a framework's version is not recorded, the gate reads the class files of what octet relies on. */
class FrameworkGateTest {

    @RegisterExtension
    final CapturedStandardError err = new CapturedStandardError();

    private static FrameworkGate gate(Requirement... probe) {
        return new FrameworkGate(Framework.named("Test", "no/such/version.properties", "version").supports("1.0")
                .reliesOn(probe).helpers("dev.octet.none.").build());
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

    /** A jar holding {@code entries} (name to text) and, if {@code manifest} is not null, that manifest's main attributes. */
    private static Path jar(Path dir, String name, Map<String, String> manifest, Map<String, String> entries) throws IOException {
        Path jar = dir.resolve(name);
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (manifest != null) {
            manifest.forEach((k, v) -> m.getMainAttributes().putValue(k, v));
        }
        try (OutputStream file = Files.newOutputStream(jar);
                JarOutputStream out = manifest == null ? new JarOutputStream(file) : new JarOutputStream(file, m)) {
            for (Map.Entry<String, String> e : entries.entrySet()) {
                out.putNextEntry(new JarEntry(e.getKey()));
                out.write(e.getValue().getBytes(StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
        return jar;
    }

    private static URLClassLoader loaderOf(Path jar) throws IOException {
        return new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
    }

    private static FrameworkGate versioned() {
        return new FrameworkGate(Framework.named("Fw", "org/example/fw/fw.properties", "version").supports("1.0")
                .orManifestOf("org/example/fw/Core.class", "org.example.fw")
                .reliesOn(Requirement.method("org.example.fw.Missing", "run", 0)).helpers("dev.octet.none.").build());
    }

    /** Only the framework's own manifest names its version: an application's (an uber jar's) does not. */
    @Test
    void readsTheVersionFromTheFrameworksOwnManifestOnly(@TempDir Path dir) throws Exception {
        Map<String, String> core = Map.of("org/example/fw/Core.class", "not really a class");
        Path own = jar(dir, "own.jar", Map.of("Automatic-Module-Name", "org.example.fw", "Specification-Version", "1.0"), core);
        Path app = jar(dir, "app.jar", Map.of("Automatic-Module-Name", "com.acme.app", "Specification-Version", "7.3"), core);
        Path none = jar(dir, "none.jar", null, core);
        FrameworkGate gate = versioned();
        try (URLClassLoader a = loaderOf(own); URLClassLoader b = loaderOf(app); URLClassLoader c = loaderOf(none)) {
            assertEquals("1.0", gate.manifestVersion(a));
            assertNull(gate.manifestVersion(b));
            assertNull(gate.manifestVersion(c));
            assertTrue(gate.supported(a), "1.0, from its manifest");
            assertFalse(gate.supported(b), "no version, and the probe finds org.example.fw.Missing missing");
            String err = this.err.printed();
            assertTrue(err.contains("[octet] Fw's org/example/fw/fw.properties is not in this job's jars; its version, 1.0, is read"
                    + " from the manifest of its jar (org.example.fw)"), err);
            assertTrue(err.contains("Fw of unknown version (its jars do not record it) lacks org.example.fw.Missing.run"), err);
        }
    }

    /**
     * One warning per cause: a second class loader with the same unsupported version adds none, one with
     * another version gets its own (it would be hidden behind the first if keyed by the framework alone).
     */
    @Test
    void anotherUnsupportedVersionInAnotherLoaderGetsItsOwnWarning(@TempDir Path dir) throws Exception {
        FrameworkGate gate = versioned();
        Path old = jar(dir, "old.jar", null, Map.of("org/example/fw/fw.properties", "version=0.9\n"));
        Path older = jar(dir, "older.jar", null, Map.of("org/example/fw/fw.properties", "version=0.8\n"));
        try (URLClassLoader a = loaderOf(old); URLClassLoader b = loaderOf(old); URLClassLoader c = loaderOf(older)) {
            assertFalse(gate.supported(a));
            assertFalse(gate.supported(b));
            assertFalse(gate.supported(c));
            assertEquals(1, err.count("Fw 0.9 is not a version octet supports (1.0)"), err.printed());
            assertEquals(1, err.count("Fw 0.8 is not a version octet supports (1.0)"), err.printed());
        }
    }

    /**
     * With {@code onError: fail}, nothing is said or stopped while a class is transformed (an exception
     * there would only leave the class as it is): the type gets {@link UnsupportedStopAdvice}, and its
     * first use, a constructor or a method, stops the job with the reason.
     */
    @Test
    void underOnErrorFailTheFirstUseOfAnUnsupportedFrameworkClassStopsTheJob(@TempDir Path dir) throws Exception {
        // The extension installs the default policy again after the test.
        dev.octet.adapters.core.OctetRuntime.install(dev.octet.policy.PolicyParser.parse("onError: fail\n", "fail.yaml"));
        FrameworkGate gate = versioned();
        Path old = jar(dir, "old.jar", null, Map.of("org/example/fw/fw.properties", "version=0.7\n"));
        try (URLClassLoader a = loaderOf(old)) {
            assertEquals("Fw 0.7 is not a version octet supports (1.0); this job's optimizer state stays 32-bit", gate.refusal(a));
            assertEquals("", err.printed(), "said when the class is used, not when it is transformed");
        }
        Class<?> woven = new net.bytebuddy.ByteBuddy().redefine(Sample.class)
                .visit(UnsupportedStopAdvice.on("Fw 0.7 is not a version octet supports (1.0)")).make()
                .load(new ClassLoader(getClass().getClassLoader()) {
                }, net.bytebuddy.dynamic.loading.ClassLoadingStrategy.Default.CHILD_FIRST).getLoaded();
        String stopped = causeOf(() -> woven.getConstructor().newInstance());
        assertEquals("dev.octet.adapters.core.OctetFailure: Fw 0.7 is not a version octet supports (1.0), and the policy"
                + " says onError: fail", stopped);
        assertEquals(stopped, causeOf(() -> woven.getMethod("twice", int.class).invoke(null, 2)));
        assertEquals(1, err.count("[octet] Fw 0.7 is not a version octet supports (1.0), and the policy says onError: fail"),
                err.printed());
    }

    /** Stands in for a framework class. */
    public static class Sample {
        public Sample() {
        }

        public static int twice(int x) {
            return 2 * x;
        }
    }

    private interface Call {
        Object call() throws Exception;
    }

    private static String causeOf(Call call) {
        try {
            call.call();
            return "nothing thrown";
        } catch (java.lang.reflect.InvocationTargetException e) {
            return e.getCause().toString();
        } catch (Exception e) {
            return e.toString();
        }
    }
}
