package dev.octet.agent.djl;

import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.octet.agent.FrameworkGate;
import dev.octet.agent.HelperInjector;
import dev.octet.agent.InstrumentationModule;
import java.util.List;
import java.util.Set;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.pool.TypePool;

/**
 * DJL (PyTorch engine, CPU and GPU): when a {@code Trainer} is made, octet takes over the state of its
 * optimizer (Adam, AdamW, Sgd with momentum, Nag, RmsProp, Adagrad, Adadelta); {@code LocalParameterServer.update},
 * where DJL hands each parameter and its gradient to the optimizer, runs octet's fused update on the
 * tensors' memory instead (on a GPU recorded, and launched for all parameters when
 * {@code ParameterStore.updateAllParameters} ends); {@code BaseModel.save} and {@code readParameters} save and restore octet's
 * state beside the model ({@code Parameter.load} tells it which arrays a stream made, so that a
 * {@code Block.loadParameters} of the job's own is told apart and named); {@code Embedding.forwardInternal} gets the stable embedding's layer norm.
 * Only the DJL versions its gate names are touched; others run as without the agent.
 */
public final class DjlInstrumentationModule implements InstrumentationModule {

    /** DJL's version is written by its build into its api jar ({@code Engine.getDjlVersion()} reads it too). */
    private static final FrameworkGate GATE = new FrameworkGate("DJL", "djl-version", "ai/djl/engine/api.properties",
            "djl_version", Set.of("0.35.1"), "dev.octet.adapters.djl.", loader -> null,
            List.of(FrameworkGate.Requirement.method("ai.djl.training.Trainer", "<init>", 2),
                    FrameworkGate.Requirement.method("ai.djl.training.LocalParameterServer", "update", 3),
                    FrameworkGate.Requirement.method("ai.djl.training.ParameterStore", "updateAllParameters", 0),
                    FrameworkGate.Requirement.method("ai.djl.BaseModel", "readParameters", 2),
                    FrameworkGate.Requirement.method("ai.djl.nn.Parameter", "load", 2),
                    FrameworkGate.Requirement.method("ai.djl.nn.core.Embedding", "forwardInternal", 4),
                    FrameworkGate.Requirement.field("ai.djl.training.optimizer.Optimizer", "rescaleGrad"),
                    FrameworkGate.Requirement.field("ai.djl.training.optimizer.Optimizer", "beginNumUpdate"),
                    FrameworkGate.Requirement.field("ai.djl.training.optimizer.Adam", "learningRateTracker"),
                    FrameworkGate.Requirement.field("ai.djl.training.optimizer.Adam", "beta2")))
            .orManifest("ai/djl/engine/Engine.class", "ai.djl.api");

    @Override
    public String name() {
        return "djl";
    }

    @Override
    public AgentBuilder instrument(AgentBuilder builder, HelperInjector helpers) {
        ClassFileLocator agentClasses = ClassFileLocator.ForClassLoader.of(DjlInstrumentationModule.class.getClassLoader());
        TypePool adviceTypes = TypePool.Default.of(new ClassFileLocator.Compound(agentClasses, helpers.locator()));
        Advice trainer = advice(adviceTypes, agentClasses, TrainerConstructionAdvice.class);
        Advice update = advice(adviceTypes, agentClasses, ParameterUpdateAdvice.class);
        Advice step = advice(adviceTypes, agentClasses, StepAdvice.class);
        Advice save = advice(adviceTypes, agentClasses, ModelSaveAdvice.class);
        Advice read = advice(adviceTypes, agentClasses, ReadParametersAdvice.class);
        Advice parameterLoad = advice(adviceTypes, agentClasses, ParameterLoadAdvice.class);
        Advice embedding = advice(adviceTypes, agentClasses, EmbeddingOutputAdvice.class);
        return builder
                .type(named("ai.djl.training.Trainer"))
                .transform(GATE.whenSupported(helpers, b -> b.visit(trainer.on(isConstructor().and(takesArguments(2))))))
                .type(named("ai.djl.training.LocalParameterServer"))
                .transform(GATE.whenSupported(helpers, b -> b.visit(update.on(named("update").and(takesArguments(3))))))
                .type(named("ai.djl.training.ParameterStore"))
                .transform(GATE.whenSupported(helpers, b -> b.visit(step.on(named("updateAllParameters").and(takesArguments(0))))))
                .type(named("ai.djl.BaseModel"))
                .transform(GATE.whenSupported(helpers, b -> b
                        .visit(save.on(named("save").and(takesArguments(2))))
                        .visit(read.on(named("readParameters").and(takesArguments(2))
                                .and(takesArgument(0, named("java.nio.file.Path")))))))
                .type(named("ai.djl.nn.Parameter"))
                .transform(GATE.whenSupported(helpers, b -> b.visit(parameterLoad.on(named("load").and(takesArguments(2))
                        .and(takesArgument(1, named("java.io.DataInputStream")))))))
                .type(named("ai.djl.nn.core.Embedding"))
                .transform(GATE.whenSupported(helpers, b -> b.visit(embedding.on(named("forwardInternal").and(takesArguments(4))))));
    }

    private static Advice advice(TypePool types, ClassFileLocator locator, Class<?> adviceClass) {
        return Advice.to(types.describe(adviceClass.getName()).resolve(), locator);
    }
}
