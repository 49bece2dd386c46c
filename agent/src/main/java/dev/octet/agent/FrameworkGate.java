package dev.octet.agent;

import dev.octet.adapters.core.OctetRuntime;
import dev.octet.agent.Framework.Requirement;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDefinition;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.pool.TypePool;

import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Version safety for one framework's instrumentation module: a type is transformed only where the
 * class loader that defines it sees a framework version the module supports; octet's helpers are
 * injected into that loader first. Elsewhere the framework runs as without
 * the agent, after one warning; with {@code onError: fail} the framework's classes octet would have
 * instrumented get {@link UnsupportedStopAdvice} instead, so the job stops with the reason at their first use
 * (not while the class is transformed: nothing thrown there reaches the job).
 *
 * <p>Where the framework's jars do not record its version (a shaded or uber jar built without the
 * Maven metadata, as many Spark jobs are), the gate probes the classes and members octet relies on,
 * reading their class files without loading them: all there, and octet runs, with one line saying so;
 * one missing, and the framework is left alone, with the missing member named.
 */
final class FrameworkGate {

    private final Framework framework;
    /** Per class loader: why octet stands aside there, or "" where it runs. */
    private final Map<ClassLoader, String> decided = new WeakHashMap<>();

    FrameworkGate(Framework framework) {
        this.framework = framework;
    }

    /**
     * Applies {@code weaving} only where the framework is supported, after injecting the helpers there;
     * elsewhere leaves the type as it is, or, under {@code onError: fail}, makes its first use stop the job.
     */
    AgentBuilder.Transformer whenSupported(HelperInjector helpers, AgentBuilder.Transformer weaving) {
        return (b, type, loader, module, domain) -> {
            String refusal = refusal(loader);
            if (refusal == null) {
                helpers.inject(loader, framework.helperPackage());
                return weaving.transform(b, type, loader, module, domain);
            }
            return OctetRuntime.failsOnError() ? b.visit(UnsupportedStopAdvice.on(refusal)) : b;
        };
    }

    /**
     * For a library built on the framework, whose classes may live in a child loader of the framework's
     * (Spark keeps a job's jars in one): applies {@code weaving} where the loader that defines
     * {@code frameworkClass}, as the transformed type's loader finds it, is supported, with the helpers
     * injected there, so that the library's advice and the framework's share one copy of them.
     */
    AgentBuilder.Transformer whenSupportedBeside(String frameworkClass, HelperInjector helpers,
            AgentBuilder.Transformer weaving) {
        String classFile = frameworkClass.replace('.', '/') + ".class";
        return (b, type, loader, module, domain) -> {
            // The farthest ancestor that has the class file defines it (parent-first delegation). Not
            // loaded from here: a class loaded inside a transformation escapes the agent's transformations.
            ClassLoader framework = null;
            for (ClassLoader l = loader; l != null; l = l.getParent()) {
                if (l.getResource(classFile) != null) {
                    framework = l;
                }
            }
            if (framework == null || !supported(framework)) {
                return b;
            }
            helpers.inject(framework, this.framework.helperPackage());
            return weaving.transform(b, type, loader, module, domain);
        };
    }

    boolean supported(ClassLoader loader) {
        return refusal(loader) == null;
    }

    /**
     * Why octet stands aside in what {@code loader} sees (said once, under {@code onError: warn}), or null
     * where it runs.
     */
    synchronized String refusal(ClassLoader loader) {
        String refusal = decided.computeIfAbsent(loader, asked -> {
            ClassLoader l = asked != null ? asked : ClassLoader.getSystemClassLoader();
            String name = framework.name();
            Set<String> supportedVersions = framework.supportedVersions();
            String version = version(l);
            String supported = String.join(", ", supportedVersions.stream().sorted().toList());
            if (version == null) {
                version = manifestVersion(l);
                if (version != null && supportedVersions.contains(version)) {
                    OctetRuntime.noteOnce(name + ":manifest:" + version, name + "'s " + framework.versionResource()
                            + " is not in this job's jars; its version, " + version + ", is read from the manifest of its jar"
                            + " (" + framework.manifestModuleName() + ")");
                }
            }
            String reason = null;
            if (version != null && !supportedVersions.contains(version)) {
                reason = name + " " + version + " is not a version octet supports (" + supported + ")";
            } else if (version == null) {
                Requirement missing = firstMissing(l);
                if (missing != null) {
                    reason = name + " of unknown version (its jars do not record it) lacks " + missing
                            + ", which octet relies on; octet supports " + supported;
                } else {
                    OctetRuntime.noteOnce(name + ":probed", name + "'s version is not recorded in this job's jars ("
                            + framework.versionResource() + " is missing: a jar repacked without it, such as a shaded one);"
                            + " every class and member octet relies on is there, so octet runs as for " + supported);
                }
            }
            if (reason == null) {
                return "";
            }
            String message = reason + "; this job's optimizer state stays 32-bit";
            if (!OctetRuntime.failsOnError()) {
                // Keyed by the reason too: another class loader with another version or gap is another problem.
                OctetRuntime.warnOnce(name + ":" + reason, message);
            }
            return message;
        });
        return refusal.isEmpty() ? null : refusal;
    }

    /** The first requirement {@code loader} does not meet, or null; class files are read, not loaded. */
    Requirement firstMissing(ClassLoader loader) {
        TypePool types = TypePool.Default.of(ClassFileLocator.ForClassLoader.of(loader));
        for (Requirement r : framework.requirements()) {
            if (!meets(types, r)) {
                return r;
            }
        }
        return null;
    }

    private static boolean meets(TypePool types, Requirement r) {
        TypePool.Resolution resolution = types.describe(r.type());
        if (!resolution.isResolved()) {
            return false;
        }
        boolean constructor = r.name().equals("<init>");
        ElementMatcher.Junction<MethodDescription> method = constructor ? isConstructor() : named(r.name());
        for (TypeDefinition t = resolution.resolve(); t != null; t = t.getSuperClass()) {
            boolean found = r.arguments() < 0
                    ? !t.getDeclaredFields().filter(named(r.name())).isEmpty()
                    : !t.getDeclaredMethods().filter(method.and(takesArguments(r.arguments()))).isEmpty();
            if (found) {
                return true;
            }
            if (constructor) {
                return false;
            }
        }
        return false;
    }

    /** The version in the manifest of the framework's own jar, as {@code loader} sees it, or null. */
    String manifestVersion(ClassLoader loader) {
        String manifestClassFile = framework.manifestClassFile();
        if (manifestClassFile == null) {
            return null;
        }
        URL classUrl = loader.getResource(manifestClassFile);
        if (classUrl == null || !classUrl.toString().endsWith(manifestClassFile)) {
            return null;
        }
        String url = classUrl.toString();
        try (InputStream in = new URL(url.substring(0, url.length() - manifestClassFile.length()) + "META-INF/MANIFEST.MF")
                .openStream()) {
            Attributes main = new Manifest(in).getMainAttributes();
            return framework.manifestModuleName().equals(main.getValue("Automatic-Module-Name")) ? main.getValue("Specification-Version") : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** The framework's version as {@code loader} sees it, or null. */
    private String version(ClassLoader loader) {
        try (InputStream in = loader.getResourceAsStream(framework.versionResource())) {
            if (in == null) {
                return null;
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty(framework.versionProperty());
        } catch (IOException e) {
            return null;
        }
    }
}
