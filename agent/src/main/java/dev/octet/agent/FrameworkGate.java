package dev.octet.agent;

import dev.octet.adapters.core.OctetRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.dynamic.DynamicType;

/**
 * Version safety for one framework's instrumentation module: a type is transformed only where the
 * class loader that defines it sees a framework version the module supports (and no setup it cannot
 * handle); octet's helpers are injected into that loader first. Elsewhere the framework runs as without
 * the agent, after one warning (or, with {@code onError: fail}, the job stops with the reason).
 */
public final class FrameworkGate {

    private final String framework;
    private final String key;
    private final String versionResource;
    private final String versionProperty;
    private final Set<String> supportedVersions;
    private final String helperPackage;
    private final Function<ClassLoader, String> otherReason;
    private final Map<ClassLoader, Boolean> decided = new WeakHashMap<>();

    /**
     * @param framework the framework's name in messages ("DJL")
     * @param key for the warning, once per JVM
     * @param versionResource a properties resource of the framework's jar that holds its version
     * @param versionProperty the version's key in it
     * @param supportedVersions the versions the module was built and tested against
     * @param helperPackage octet's helper classes for this framework, injected where it lives
     * @param otherReason why octet cannot handle what a loader sees despite a supported version, or null
     *                    (given the system class loader for the bootstrap loader)
     */
    public FrameworkGate(String framework, String key, String versionResource, String versionProperty,
            Set<String> supportedVersions, String helperPackage, Function<ClassLoader, String> otherReason) {
        this.framework = framework;
        this.key = key;
        this.versionResource = versionResource;
        this.versionProperty = versionProperty;
        this.supportedVersions = supportedVersions;
        this.helperPackage = helperPackage;
        this.otherReason = otherReason;
    }

    /** Applies {@code visit} only where the framework is supported, after injecting the helpers there. */
    public AgentBuilder.Transformer whenSupported(HelperInjector helpers, UnaryOperator<DynamicType.Builder<?>> visit) {
        return (b, type, loader, module, domain) -> {
            if (!supported(loader)) {
                return b;
            }
            helpers.inject(loader, helperPackage);
            return visit.apply(b);
        };
    }

    private synchronized boolean supported(ClassLoader loader) {
        return decided.computeIfAbsent(loader, asked -> {
            ClassLoader l = asked != null ? asked : ClassLoader.getSystemClassLoader();
            String version = version(l);
            String reason;
            if (version == null || !supportedVersions.contains(version)) {
                reason = framework + " " + (version == null ? "of unknown version" : version)
                        + " is not a version octet supports ("
                        + String.join(", ", supportedVersions.stream().sorted().toList()) + ")";
            } else {
                reason = otherReason.apply(l);
            }
            if (reason == null) {
                return true;
            }
            OctetRuntime.unsupported(key, reason + "; this job's optimizer state stays 32-bit");
            return false;
        });
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
