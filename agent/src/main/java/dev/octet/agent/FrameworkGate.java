package dev.octet.agent;

import dev.octet.adapters.core.OctetRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDefinition;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.pool.TypePool;

import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * Version safety for one framework's instrumentation module: a type is transformed only where the
 * class loader that defines it sees a framework version the module supports (and no setup it cannot
 * handle); octet's helpers are injected into that loader first. Elsewhere the framework runs as without
 * the agent, after one warning; with {@code onError: fail} the framework's classes octet would have
 * instrumented get {@link UnsupportedStopAdvice} instead, so the job stops with the reason at their first use
 * (not while the class is transformed: nothing thrown there reaches the job).
 *
 * <p>Where the framework's jars do not record its version (a shaded or uber jar built without the
 * Maven metadata, as many Spark jobs are), the gate probes the classes and members octet relies on,
 * reading their class files without loading them: all there, and octet runs, with one line saying so;
 * one missing, and the framework is left alone, with the missing member named.
 */
public final class FrameworkGate {

    /**
     * A member of the framework octet relies on: a method or constructor ({@code <init>}) with that many
     * parameters, or a field ({@code arguments} -1), declared by {@code type} or a supertype.
     */
    public record Requirement(String type, String name, int arguments) {

        public static Requirement method(String type, String name, int arguments) {
            return new Requirement(type, name, arguments);
        }

        public static Requirement field(String type, String name) {
            return new Requirement(type, name, -1);
        }

        @Override
        public String toString() {
            return type + (arguments < 0 ? "." + name : "." + name + " with " + arguments + " parameters");
        }
    }

    private final String framework;
    private final String key;
    private final String versionResource;
    private final String versionProperty;
    private final Set<String> supportedVersions;
    private final String helperPackage;
    private final Function<ClassLoader, String> otherReason;
    private final List<Requirement> probe;
    /** Per class loader: why octet stands aside there, or "" where it runs. */
    private final Map<ClassLoader, String> decided = new WeakHashMap<>();
    /** A class file of the framework whose jar's manifest may name the version (see {@link #orManifest}), or null. */
    private String manifestClassFile;
    private String manifestModuleName;

    /**
     * @param framework the framework's name in messages ("DJL")
     * @param key for the warning, once per JVM
     * @param versionResource a properties resource of the framework's jar that holds its version
     * @param versionProperty the version's key in it
     * @param supportedVersions the versions the module was built and tested against
     * @param helperPackage octet's helper classes for this framework, injected where it lives
     * @param otherReason why octet cannot handle what a loader sees despite a supported version, or null
     *                    (given the system class loader for the bootstrap loader)
     * @param probe what octet relies on, checked where the version is not recorded
     */
    public FrameworkGate(String framework, String key, String versionResource, String versionProperty,
            Set<String> supportedVersions, String helperPackage, Function<ClassLoader, String> otherReason,
            List<Requirement> probe) {
        this.framework = framework;
        this.key = key;
        this.versionResource = versionResource;
        this.versionProperty = versionProperty;
        this.supportedVersions = supportedVersions;
        this.helperPackage = helperPackage;
        this.otherReason = otherReason == null ? loader -> null : otherReason;
        this.probe = List.copyOf(probe);
    }

    /**
     * Where the version resource is missing, reads the version from the {@code Specification-Version} of the
     * manifest of the jar holding {@code classFile}, but only if that manifest is the framework's own (its
     * {@code Automatic-Module-Name} is {@code moduleName}): an uber jar's manifest is the application's, and
     * its version would be mistaken for the framework's. DJL itself reads its version from that manifest first.
     */
    public FrameworkGate orManifest(String classFile, String moduleName) {
        this.manifestClassFile = classFile;
        this.manifestModuleName = moduleName;
        return this;
    }

    /**
     * Applies {@code visit} only where the framework is supported, after injecting the helpers there;
     * elsewhere leaves the type as it is, or, under {@code onError: fail}, makes its first use stop the job.
     */
    public AgentBuilder.Transformer whenSupported(HelperInjector helpers, UnaryOperator<DynamicType.Builder<?>> visit) {
        return (b, type, loader, module, domain) -> {
            String refusal = refusal(loader);
            if (refusal == null) {
                helpers.inject(loader, helperPackage);
                return visit.apply(b);
            }
            return OctetRuntime.failsOnError() ? b.visit(UnsupportedStopAdvice.on(refusal)) : b;
        };
    }

    /**
     * For a library built on the framework, whose classes may live in a child loader of the framework's
     * (Spark keeps a job's jars in one): applies {@code visit} where the loader that defines
     * {@code frameworkClass}, as the transformed type's loader finds it, is supported, with the helpers
     * injected there, so that the library's advice and the framework's share one copy of them.
     */
    public AgentBuilder.Transformer whenSupportedBeside(String frameworkClass, HelperInjector helpers,
            UnaryOperator<DynamicType.Builder<?>> visit) {
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
            helpers.inject(framework, helperPackage);
            return visit.apply(b);
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
            String version = version(l);
            String supported = String.join(", ", supportedVersions.stream().sorted().toList());
            if (version == null) {
                version = manifestVersion(l);
                if (version != null && supportedVersions.contains(version)) {
                    OctetRuntime.noteOnce(key + ":manifest:" + version, framework + "'s " + versionResource
                            + " is not in this job's jars; its version, " + version + ", is read from the manifest of its jar"
                            + " (" + manifestModuleName + ")");
                }
            }
            String reason;
            if (version != null && !supportedVersions.contains(version)) {
                reason = framework + " " + version + " is not a version octet supports (" + supported + ")";
            } else if (version == null) {
                Requirement missing = firstMissing(l);
                reason = missing != null
                        ? framework + " of unknown version (its jars do not record it) lacks " + missing
                                + ", which octet relies on; octet supports " + supported
                        : otherReason.apply(l);
                if (reason == null) {
                    OctetRuntime.noteOnce(key + ":probed", framework + "'s version is not recorded in this job's jars ("
                            + versionResource + " is missing: a jar repacked without it, such as a shaded one); every class"
                            + " and member octet relies on is there, so octet runs as for " + supported);
                }
            } else {
                reason = otherReason.apply(l);
            }
            if (reason == null) {
                return "";
            }
            String message = reason + "; this job's optimizer state stays 32-bit";
            if (!OctetRuntime.failsOnError()) {
                // Keyed by the reason too: another class loader with another version or gap is another problem.
                OctetRuntime.warnOnce(key + ":" + reason, message);
            }
            return message;
        });
        return refusal.isEmpty() ? null : refusal;
    }

    /** The first requirement {@code loader} does not meet, or null; class files are read, not loaded. */
    Requirement firstMissing(ClassLoader loader) {
        TypePool types = TypePool.Default.of(ClassFileLocator.ForClassLoader.of(loader));
        for (Requirement r : probe) {
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
            return manifestModuleName.equals(main.getValue("Automatic-Module-Name")) ? main.getValue("Specification-Version") : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** The framework's version as {@code loader} sees it, or null. */
    private String version(ClassLoader loader) {
        try (InputStream in = loader.getResourceAsStream(versionResource)) {
            if (in == null) {
                return null;
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty(versionProperty);
        } catch (IOException e) {
            return null;
        }
    }
}
