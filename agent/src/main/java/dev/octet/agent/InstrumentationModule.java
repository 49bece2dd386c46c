package dev.octet.agent;

import java.util.List;

/**
 * The instrumentation of one framework, switched on and off as one ({@code octet.<name>.enabled}): a
 * declaration of the framework ({@link Framework}: versions, what octet relies on, packages, helpers) and of
 * the changes to its types ({@link TypeInstrumentation}); the agent's core ({@link ModuleInstaller}) applies
 * them. Modules are found with {@link java.util.ServiceLoader}; adding a framework touches no central list.
 */
public interface InstrumentationModule {

    /** Short name, as in {@code -Doctet.dl4j.enabled=false}. */
    String name();

    /** The framework, read by the dormant agent: nothing here may need ByteBuddy. */
    Framework framework();

    /**
     * The framework's types octet changes, and how; asked once, when the agent activates. Built in a class of
     * the module's own (octet's modules use a nested {@code Types}): the dormant agent loads the module class,
     * and the verifier would load the ByteBuddy types that building matchers there involves.
     */
    List<TypeInstrumentation> typeInstrumentations();
}
