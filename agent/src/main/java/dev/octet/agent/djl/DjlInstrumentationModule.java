package dev.octet.agent.djl;

import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.octet.agent.Framework;
import dev.octet.agent.Framework.Requirement;
import dev.octet.agent.InstrumentationModule;
import dev.octet.agent.TypeInstrumentation;
import java.util.List;

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
    private static final Framework DJL = Framework.named("DJL", "ai/djl/engine/api.properties", "djl_version")
            .orManifestOf("ai/djl/engine/Engine.class", "ai.djl.api")
            .supports("0.35.1")
            .reliesOn(Requirement.method("ai.djl.training.Trainer", "<init>", 2),
                    Requirement.method("ai.djl.training.LocalParameterServer", "update", 3),
                    Requirement.method("ai.djl.training.ParameterStore", "updateAllParameters", 0),
                    Requirement.method("ai.djl.BaseModel", "readParameters", 2),
                    Requirement.method("ai.djl.nn.Parameter", "load", 2),
                    Requirement.method("ai.djl.nn.core.Embedding", "forwardInternal", 4),
                    Requirement.field("ai.djl.training.optimizer.Optimizer", "rescaleGrad"),
                    Requirement.field("ai.djl.training.optimizer.Optimizer", "beginNumUpdate"),
                    Requirement.field("ai.djl.training.optimizer.Adam", "learningRateTracker"),
                    Requirement.field("ai.djl.training.optimizer.Adam", "beta2"))
            .wakesOn("ai/djl/")
            .instruments("ai/djl/")
            .helpers("dev.octet.adapters.djl.")
            .build();

    @Override
    public String name() {
        return "djl";
    }

    @Override
    public Framework framework() {
        return DJL;
    }

    @Override
    public List<TypeInstrumentation> typeInstrumentations() {
        return Types.all();
    }

    /** The declarations, in a class of their own ({@link InstrumentationModule#typeInstrumentations} says why). */
    private static final class Types {

        static List<TypeInstrumentation> all() {
            return List.of(
                    TypeInstrumentation.of(named("ai.djl.training.Trainer"))
                            .advice(isConstructor().and(takesArguments(2)), TrainerConstructionAdvice.class),
                    TypeInstrumentation.of(named("ai.djl.training.LocalParameterServer"))
                            .advice(named("update").and(takesArguments(3)), ParameterUpdateAdvice.class),
                    TypeInstrumentation.of(named("ai.djl.training.ParameterStore"))
                            .advice(named("updateAllParameters").and(takesArguments(0)), StepAdvice.class),
                    TypeInstrumentation.of(named("ai.djl.BaseModel"))
                            .advice(named("save").and(takesArguments(2)), ModelSaveAdvice.class)
                            .advice(named("readParameters").and(takesArguments(2))
                                    .and(takesArgument(0, named("java.nio.file.Path"))), ReadParametersAdvice.class),
                    TypeInstrumentation.of(named("ai.djl.nn.Parameter"))
                            .advice(named("load").and(takesArguments(2))
                                    .and(takesArgument(1, named("java.io.DataInputStream"))), ParameterLoadAdvice.class),
                    TypeInstrumentation.of(named("ai.djl.nn.core.Embedding"))
                            .advice(named("forwardInternal").and(takesArguments(4)), EmbeddingOutputAdvice.class));
        }
    }
}
