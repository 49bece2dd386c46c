package dev.octet.agent;

import static net.bytebuddy.matcher.ElementMatchers.isDeclaredBy;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.octet.adapters.core.CapturedStandardError;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.IllegalClassFormatException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import net.bytebuddy.asm.Advice;
import org.example.fw.Counter;
import org.example.fwhelpers.Tally;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A module declared as octet's are, for a made-up framework (org.example.fw, a jar with a version file):
 * the core injects the helpers where the framework lives and applies the advice (typed by the framework's
 * own class) and the call replacements, only where the framework's version is one the module supports.
 */
class ModuleInstallerTest {

    @RegisterExtension
    final CapturedStandardError err = new CapturedStandardError();

    /** Inlined into {@code Counter.next}: takes the framework's own type. */
    static final class CountingAdvice {
        @Advice.OnMethodEnter
        static void enter(@Advice.This Counter counter, @Advice.Argument(0) int x) {
            Tally.entered(counter, x);
        }
    }

    private static InstrumentationModule module(String helper) {
        return new InstrumentationModule() {
            @Override
            public String name() {
                return "fw";
            }

            @Override
            public Framework framework() {
                return Framework.named("Fw", "org/example/fw/fw.properties", "version").supports("1.0")
                        .wakesOn("org/example/fw/").instruments("org/example/fw/").helpers("org.example.fwhelpers.").build();
            }

            @Override
            public List<TypeInstrumentation> typeInstrumentations() {
                return List.of(TypeInstrumentation.of(named("org.example.fw.Counter"))
                        .advice(named("next"), CountingAdvice.class)
                        .replaceCalls(named("next"), named("abs").and(isDeclaredBy(Math.class)), helper));
            }
        };
    }

    private static ClassFileTransformer transformer(String helper) throws IOException {
        HelperInjector helpers = new HelperInjector(Map.of(Tally.class.getName(), classFile(Tally.class)));
        return ModuleInstaller.install(Activation.agentBuilder(), module(helper), helpers).makeRaw();
    }

    @Test
    void whereTheVersionIsSupportedTheAdviceAndTheReplacementsAreWovenWithTheHelpersBeside(@TempDir Path dir) throws Exception {
        try (FrameworkLoader fw = new FrameworkLoader(framework(dir, "1.0"), transformer("org.example.fwhelpers.Tally#abs"))) {
            Object counter = fw.loadClass(Counter.class.getName()).getConstructor().newInstance();
            assertEquals(1001, counter.getClass().getMethod("next", int.class).invoke(counter, -5), "Math.abs replaced");
            Class<?> tally = fw.loadClass(Tally.class.getName());
            assertSame(fw, tally.getClassLoader(), "the helper injected where the framework lives");
            assertEquals(1, tally.getField("calls").getInt(null), "the advice ran");
            assertSame(counter, tally.getField("last").get(null), "and was given the framework's object, typed");
        }
    }

    @Test
    void whereTheVersionIsNotSupportedNothingIsTouched(@TempDir Path dir) throws Exception {
        try (FrameworkLoader fw = new FrameworkLoader(framework(dir, "0.6"), transformer("org.example.fwhelpers.Tally#abs"))) {
            Object counter = fw.loadClass(Counter.class.getName()).getConstructor().newInstance();
            assertEquals(6, counter.getClass().getMethod("next", int.class).invoke(counter, -5));
            assertThrows(ClassNotFoundException.class, () -> fw.loadClass(Tally.class.getName()), "no helper injected");
        }
        assertEquals(1, err.count("Fw 0.6 is not a version octet supports (1.0)"), err.printed());
    }

    /** A module naming a helper method that is not there is refused when the agent activates, not class by class. */
    @Test
    void aHelperMethodThatIsNotThereIsAnErrorAtSetUp() {
        assertThrows(IllegalStateException.class, () -> transformer("org.example.fwhelpers.Tally#nope"));
    }

    /** The made-up framework's jar: its version file and {@link Counter}. */
    private static Path framework(Path dir, String version) throws IOException {
        Path jar = dir.resolve("fw-" + version + ".jar");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
            out.putNextEntry(new JarEntry("org/example/fw/fw.properties"));
            out.write(("version=" + version + "\n").getBytes(StandardCharsets.UTF_8));
            out.putNextEntry(new JarEntry("org/example/fw/Counter.class"));
            out.write(classFile(Counter.class));
        }
        return jar;
    }

    private static byte[] classFile(Class<?> type) throws IOException {
        try (InputStream in = type.getResourceAsStream(type.getSimpleName() + ".class")) {
            return in.readAllBytes();
        }
    }

    /** Loads the made-up framework from its jar alone, each class through the agent's transformer. */
    private static final class FrameworkLoader extends URLClassLoader {
        private final ClassFileTransformer transformer;

        FrameworkLoader(Path jar, ClassFileTransformer transformer) throws IOException {
            super(new URL[] {jar.toUri().toURL()}, null);
            this.transformer = transformer;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            String internal = name.replace('.', '/');
            try (InputStream in = getResourceAsStream(internal + ".class")) {
                if (in == null) {
                    throw new ClassNotFoundException(name);
                }
                byte[] bytes = in.readAllBytes();
                byte[] woven = transformer.transform(this, internal, null, null, bytes);
                byte[] used = woven == null ? bytes : woven;
                return defineClass(name, used, 0, used.length);
            } catch (IOException | IllegalClassFormatException e) {
                throw new ClassNotFoundException(name, e);
            }
        }
    }
}
