package dev.octet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/**
 * octet's own modules, as the agent finds them: each declares what the dormant agent needs, and its
 * declarations set up, every helper method they name there (read from the adapters' classes, as the agent
 * reads them from its jar).
 */
class InstrumentationModulesTest {

    private static List<InstrumentationModule> modules() {
        return ServiceLoader.load(InstrumentationModule.class).stream().map(ServiceLoader.Provider::get).toList();
    }

    @Test
    void eachModuleDeclaresItsFrameworkPackagesAndHelpers() {
        assertEquals(List.of("djl", "dl4j"), modules().stream().map(InstrumentationModule::name).sorted().toList());
        for (InstrumentationModule module : modules()) {
            Framework f = module.framework();
            assertFalse(f.triggerPackages().isEmpty(), module.name());
            assertFalse(f.instrumentedPackages().isEmpty(), module.name());
            assertFalse(f.supportedVersions().isEmpty(), module.name());
            assertFalse(f.requirements().isEmpty(), module.name());
            assertNotNull(f.helperPackage(), module.name());
            assertTrue(f.instrumentedPackages().stream().allMatch(p -> f.triggerPackages().contains(p)),
                    module.name() + ": a class it instruments wakes the agent");
        }
    }

    @Test
    void eachModuleSetsUpWithTheHelpersItNames() {
        for (InstrumentationModule module : modules()) {
            Map<String, byte[]> helpers = new HashMap<>();
            for (TypeInstrumentation type : module.typeInstrumentations()) {
                assertFalse(type.advice().isEmpty() && type.replacements().isEmpty(), module.name() + ": a type with nothing to do");
                for (TypeInstrumentation.CallReplacement r : type.replacements()) {
                    assertTrue(r.helperClass().startsWith(module.framework().helperPackage()), r.helperClass());
                    helpers.put(r.helperClass(), classFile(r.helperClass()));
                }
            }
            // Throws where a named helper method is not there, or not one only.
            assertNotNull(ModuleInstaller.install(Activation.agentBuilder(), module, new HelperInjector(helpers)).makeRaw());
        }
    }

    private static byte[] classFile(String name) {
        try (InputStream in = InstrumentationModulesTest.class.getClassLoader().getResourceAsStream(name.replace('.', '/') + ".class")) {
            assertNotNull(in, name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
