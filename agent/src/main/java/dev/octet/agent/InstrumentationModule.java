package dev.octet.agent;

import net.bytebuddy.agent.builder.AgentBuilder;

/**
 * The instrumentation of one library, switched on and off as one ({@code octet.<name>.enabled}).
 * Modules are found with {@link java.util.ServiceLoader}; adding a library touches no central list.
 */
public interface InstrumentationModule {

    /** Short name, as in {@code -Doctet.dl4j.enabled=false}. */
    String name();

    /** Adds this module's type transformations. */
    AgentBuilder instrument(AgentBuilder builder, HelperInjector helpers);
}
