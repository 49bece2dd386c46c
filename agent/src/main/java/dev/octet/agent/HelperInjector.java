package dev.octet.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.WeakHashMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.loading.ClassInjector;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.pool.TypePool;

/**
 * The framework-facing helper classes: packed in the agent jar under {@code octet-helpers/} (so the
 * system class loader does not see them), and defined at run time in the class loader that loaded
 * the framework, where they can see its types. Each loader gets them once.
 */
public final class HelperInjector {

    static final String FOLDER = "octet-helpers/";

    private final Map<String, byte[]> classes;
    /** Per class loader, the prefixes already injected there. */
    private final Map<ClassLoader, Set<String>> injected = new WeakHashMap<>();

    /** {@code classes}: binary name to class file. */
    HelperInjector(Map<String, byte[]> classes) {
        this.classes = Map.copyOf(classes);
    }

    /** Reads the helpers packed in the jar this class was loaded from. */
    static HelperInjector fromAgentJar() {
        Map<String, byte[]> classes = new TreeMap<>();
        try (JarFile jar = new JarFile(agentJar().toFile())) {
            for (JarEntry e : Collections.list(jar.entries())) {
                String name = e.getName();
                if (name.startsWith(FOLDER) && name.endsWith(".class")) {
                    String binary = name.substring(FOLDER.length(), name.length() - ".class".length()).replace('/', '.');
                    classes.put(binary, jar.getInputStream(e).readAllBytes());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read octet's helper classes from the agent jar", e);
        }
        return new HelperInjector(classes);
    }

    static Path agentJar() {
        try {
            return Path.of(HelperInjector.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the agent jar", e);
        }
    }

    /** Describes helper types without loading them (for advice and member substitution). */
    public TypePool typePool() {
        return new TypePool.Default.WithLazyResolution(new TypePool.CacheProvider.Simple(), locator(),
                TypePool.Default.ReaderMode.FAST);
    }

    public ClassFileLocator locator() {
        return new ClassFileLocator.Simple(classes);
    }

    /** Defines every helper whose name starts with {@code prefix} in {@code loader}, once per prefix. */
    public synchronized void inject(ClassLoader loader, String prefix) {
        if (!injected.computeIfAbsent(loader, l -> new HashSet<>()).add(prefix)) {
            return;
        }
        Map<String, byte[]> selected = new TreeMap<>();
        classes.forEach((name, bytes) -> {
            if (name.startsWith(prefix)) {
                selected.put(name, bytes);
            }
        });
        ClassInjector injector = ClassInjector.UsingUnsafe.isAvailable()
                ? new ClassInjector.UsingUnsafe(loader)
                : new ClassInjector.UsingReflection(loader);
        injector.injectRaw(supertypesFirst(selected));
    }

    /**
     * The classes in an order that defines each one after its helper superclass and interfaces: the
     * loader resolves a class's supertypes while defining it, and a helper is found nowhere else.
     */
    static Map<String, byte[]> supertypesFirst(Map<String, byte[]> selected) {
        Map<String, byte[]> ordered = new LinkedHashMap<>();
        for (String name : selected.keySet()) {
            addAfterSupertypes(name, selected, ordered);
        }
        return ordered;
    }

    private static void addAfterSupertypes(String name, Map<String, byte[]> selected, Map<String, byte[]> ordered) {
        if (ordered.containsKey(name) || !selected.containsKey(name)) {
            return;
        }
        ClassReader reader = new ClassReader(selected.get(name));
        if (reader.getSuperName() != null) {
            addAfterSupertypes(reader.getSuperName().replace('/', '.'), selected, ordered);
        }
        for (String i : reader.getInterfaces()) {
            addAfterSupertypes(i.replace('/', '.'), selected, ordered);
        }
        ordered.put(name, selected.get(name));
    }
}
