package dev.octet.agent;

import java.util.ArrayList;
import java.util.List;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * What a module changes in the framework's types that {@code types} matches: advice classes inlined into
 * methods, and calls the framework makes replaced with calls to octet's helpers. A declaration only: the
 * agent's core ({@link ModuleInstaller}) applies it behind the module's framework gate, with the helpers
 * injected first.
 */
public final class TypeInstrumentation {

    /** An advice class (of the agent jar) inlined into the methods {@code methods} matches. */
    record AdviceEntry(ElementMatcher<? super MethodDescription> methods, String adviceClass) {
    }

    /**
     * Within the methods {@code inMethods} matches, each call to a method {@code calls} matches becomes a call to
     * {@code helperMethod} of the helper class {@code helperClass} (static, taking the receiver first if the
     * replaced method is not static, and returning what it returned).
     */
    record CallReplacement(ElementMatcher<? super MethodDescription> inMethods, ElementMatcher<? super MethodDescription> calls,
            String helperClass, String helperMethod) {
    }

    private final ElementMatcher<? super TypeDescription> types;
    private final String frameworkClass;
    private final List<AdviceEntry> advice = new ArrayList<>();
    private final List<CallReplacement> replacements = new ArrayList<>();

    private TypeInstrumentation(ElementMatcher<? super TypeDescription> types, String frameworkClass) {
        this.types = types;
        this.frameworkClass = frameworkClass;
    }

    /** The framework's own types: changed where the loader that defines them sees a supported version. */
    public static TypeInstrumentation of(ElementMatcher<? super TypeDescription> types) {
        return new TypeInstrumentation(types, null);
    }

    /**
     * Types of a library built on the framework, which may live in a child loader of the framework's (Spark
     * keeps a job's jars in one): changed where the loader that defines {@code frameworkClass}, as theirs finds
     * it, sees a supported version, with the helpers injected there, so that their advice and the framework's
     * share one copy of the helpers.
     */
    public static TypeInstrumentation besideFramework(String frameworkClass, ElementMatcher<? super TypeDescription> types) {
        return new TypeInstrumentation(types, frameworkClass);
    }

    /** Inlines {@code adviceClass} into the methods (and constructors) {@code methods} matches. */
    public TypeInstrumentation advice(ElementMatcher<? super MethodDescription> methods, Class<?> adviceClass) {
        // By name: the advice class is read as a class file, never loaded here (it names helpers and framework types).
        advice.add(new AdviceEntry(methods, adviceClass.getName()));
        return this;
    }

    /**
     * Within {@code inMethods}, replaces each call to a method {@code calls} matches with a call to the helper method
     * {@code helper}, written {@code "dev.octet.adapters.x.Hooks#method"}.
     */
    public TypeInstrumentation replaceCalls(ElementMatcher<? super MethodDescription> inMethods,
            ElementMatcher<? super MethodDescription> calls, String helper) {
        int hash = helper.indexOf('#');
        if (hash < 1 || hash == helper.length() - 1) {
            throw new IllegalArgumentException("a helper method is written Class#method, not " + helper);
        }
        replacements.add(new CallReplacement(inMethods, calls, helper.substring(0, hash), helper.substring(hash + 1)));
        return this;
    }

    ElementMatcher<? super TypeDescription> types() {
        return types;
    }

    /** The framework class whose loader decides, for a library's types; null for the framework's own. */
    String frameworkClass() {
        return frameworkClass;
    }

    List<AdviceEntry> advice() {
        return List.copyOf(advice);
    }

    List<CallReplacement> replacements() {
        return List.copyOf(replacements);
    }
}
