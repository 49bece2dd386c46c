package dev.octet.agent;

import static net.bytebuddy.matcher.ElementMatchers.named;

import java.util.List;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.asm.MemberSubstitution;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.pool.TypePool;

/**
 * Applies a module's declarations: each {@link TypeInstrumentation} behind the module's {@link FrameworkGate}
 * (the helpers injected into the framework's loader first), its advice through ByteBuddy's
 * {@link AgentBuilder.Transformer.ForAdvice}, which resolves an advice class against that loader too, so that
 * advice can take the framework's own types.
 */
final class ModuleInstaller {

    private ModuleInstaller() {
    }

    static AgentBuilder install(AgentBuilder builder, InstrumentationModule module, HelperInjector helpers) {
        FrameworkGate gate = new FrameworkGate(module.framework());
        TypePool helperTypes = helpers.typePool();
        for (TypeInstrumentation type : module.typeInstrumentations()) {
            AgentBuilder.Transformer weaving = weaving(type, helpers, helperTypes);
            builder = builder.type(type.types()).transform(type.frameworkClass() == null
                    ? gate.whenSupported(helpers, weaving)
                    : gate.whenSupportedBeside(type.frameworkClass(), helpers, weaving));
        }
        return builder;
    }

    /**
     * The call replacements, then the advice, of one type. Helper methods are resolved here, when the agent
     * activates: a module that names one that is not there is not set up at all (one warning), rather than
     * failing class by class.
     */
    private static AgentBuilder.Transformer weaving(TypeInstrumentation type, HelperInjector helpers, TypePool helperTypes) {
        List<AsmVisitorWrapper> substitutions = type.replacements().stream()
                .<AsmVisitorWrapper>map(r -> MemberSubstitution.relaxed().method(r.calls())
                        .replaceWith(helperMethod(helperTypes, r)).on(r.inMethods()))
                .toList();
        // Nothing is suppressed in advice: each hook handles its own failures (HookFailures: one warning and the
        // framework's own path, or a stop under onError: fail), and what it lets through is meant to stop the job.
        AgentBuilder.Transformer.ForAdvice advice = new AgentBuilder.Transformer.ForAdvice()
                .include(ModuleInstaller.class.getClassLoader())
                .include(helpers.locator())
                .withExceptionHandler(Advice.ExceptionHandler.Default.RETHROWING);
        for (TypeInstrumentation.AdviceEntry entry : type.advice()) {
            advice = advice.advice(entry.methods(), entry.adviceClass());
        }
        AgentBuilder.Transformer.ForAdvice withAdvice = advice;
        boolean anyAdvice = !type.advice().isEmpty();
        return (builder, description, loader, module, domain) -> {
            for (AsmVisitorWrapper substitution : substitutions) {
                builder = builder.visit(substitution);
            }
            return anyAdvice ? withAdvice.transform(builder, description, loader, module, domain) : builder;
        };
    }

    private static MethodDescription helperMethod(TypePool helperTypes, TypeInstrumentation.CallReplacement r) {
        TypeDescription helper = helperTypes.describe(r.helperClass()).resolve();
        return helper.getDeclaredMethods().filter(named(r.helperMethod())).getOnly();
    }
}
