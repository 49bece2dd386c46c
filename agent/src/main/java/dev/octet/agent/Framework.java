package dev.octet.agent;

import java.util.List;
import java.util.Set;

/**
 * What an instrumentation module declares about the framework it instruments: its name, how its version
 * is read and which versions octet supports, what octet relies on where no version is recorded, the
 * packages whose first class wakes the agent and those it may transform, and octet's helper package for
 * it. Plain data (no ByteBuddy type): the dormant agent reads it before anything else is loaded.
 *
 * @param name the framework's name in messages ("DJL")
 * @param versionResource a properties resource of the framework's jar that holds its version
 * @param versionProperty the version's key in it
 * @param manifestClassFile where the version resource is missing, a class file of the framework whose jar's
 *                          manifest may name the version ({@code Specification-Version}), or null
 * @param manifestModuleName the {@code Automatic-Module-Name} that makes that manifest the framework's own
 * @param supportedVersions the versions the module was built and tested against
 * @param requirements the classes and members octet relies on, checked where the version is not recorded
 * @param triggerPackages packages (internal names, "ai/djl/") whose first class loaded activates the agent
 * @param instrumentedPackages packages whose classes the module may transform (the only ones ByteBuddy sees)
 * @param helperPackage octet's helper classes for this framework ("dev.octet.adapters.djl."), injected where it lives
 */
public record Framework(String name, String versionResource, String versionProperty, String manifestClassFile,
        String manifestModuleName, Set<String> supportedVersions, List<Requirement> requirements,
        List<String> triggerPackages, List<String> instrumentedPackages, String helperPackage) {

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

    public Framework {
        supportedVersions = Set.copyOf(supportedVersions);
        requirements = List.copyOf(requirements);
        triggerPackages = List.copyOf(triggerPackages);
        instrumentedPackages = List.copyOf(instrumentedPackages);
    }

    /** A framework whose version is in {@code versionProperty} of the properties resource {@code versionResource}. */
    public static Builder named(String name, String versionResource, String versionProperty) {
        return new Builder(name, versionResource, versionProperty);
    }

    /** Declares a {@link Framework}, one part per call. */
    public static final class Builder {
        private final String name;
        private final String versionResource;
        private final String versionProperty;
        private String manifestClassFile;
        private String manifestModuleName;
        private Set<String> supportedVersions = Set.of();
        private List<Requirement> requirements = List.of();
        private List<String> triggerPackages = List.of();
        private List<String> instrumentedPackages = List.of();
        private String helperPackage;

        private Builder(String name, String versionResource, String versionProperty) {
            this.name = name;
            this.versionResource = versionResource;
            this.versionProperty = versionProperty;
        }

        public Builder supports(String... versions) {
            supportedVersions = Set.of(versions);
            return this;
        }

        /**
         * Where the version resource is missing, the version from the manifest of the jar holding
         * {@code classFile}, but only if that manifest is the framework's own (its {@code Automatic-Module-Name}
         * is {@code moduleName}): an uber jar's manifest is the application's, and its version would be
         * mistaken for the framework's.
         */
        public Builder orManifestOf(String classFile, String moduleName) {
            manifestClassFile = classFile;
            manifestModuleName = moduleName;
            return this;
        }

        public Builder reliesOn(Requirement... members) {
            requirements = List.of(members);
            return this;
        }

        /** The packages ("org/deeplearning4j/") whose first class activates the agent. */
        public Builder wakesOn(String... packages) {
            triggerPackages = List.of(packages);
            return this;
        }

        /** The packages whose classes the module may transform. */
        public Builder instruments(String... packages) {
            instrumentedPackages = List.of(packages);
            return this;
        }

        /** octet's classes for this framework: packed hidden in the agent jar, injected where the framework lives. */
        public Builder helpers(String packagePrefix) {
            helperPackage = packagePrefix;
            return this;
        }

        public Framework build() {
            return new Framework(name, versionResource, versionProperty, manifestClassFile, manifestModuleName,
                    supportedVersions, requirements, triggerPackages, instrumentedPackages, helperPackage);
        }
    }
}
