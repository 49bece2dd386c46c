package dev.octet.agent.djl;

import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.octet.adapters.core.OctetRuntime;
import dev.octet.agent.HelperInjector;
import dev.octet.agent.InstrumentationModule;
import dev.octet.policy.Policy;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.UnaryOperator;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.pool.TypePool;

/**
 * DJL (PyTorch engine, CPU): when a {@code Trainer} is made, octet takes over the state of its optimizer
 * (Adam, AdamW, Sgd with momentum, Nag, RmsProp, Adagrad, Adadelta); {@code LocalParameterServer.update},
 * where DJL hands each parameter and its gradient to the optimizer, runs octet's fused update on the
 * tensors' memory instead; {@code BaseModel.save} and {@code readParameters} save and restore octet's
 * state beside the model; {@code Embedding.forwardInternal} gets the stable embedding's layer norm.
 * Only the DJL versions in {@link #SUPPORTED_VERSIONS} are touched; others run as without the agent.
 */
public final class DjlInstrumentationModule implements InstrumentationModule {

    static final Set<String> SUPPORTED_VERSIONS = Set.of("0.35.1");
    /** Written by DJL's build into its api jar; {@code Engine.getDjlVersion()} reads it too. */
    static final String VERSION_RESOURCE = "ai/djl/engine/api.properties";

    private final Map<ClassLoader, Boolean> supportedByLoader = new WeakHashMap<>();

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
        Advice save = advice(adviceTypes, agentClasses, ModelSaveAdvice.class);
        Advice read = advice(adviceTypes, agentClasses, ReadParametersAdvice.class);
        Advice embedding = advice(adviceTypes, agentClasses, EmbeddingOutputAdvice.class);
        return builder
                .type(named("ai.djl.training.Trainer"))
                .transform(whenSupported(helpers, b -> b.visit(trainer.on(isConstructor().and(takesArguments(2))))))
                .type(named("ai.djl.training.LocalParameterServer"))
                .transform(whenSupported(helpers, b -> b.visit(update.on(named("update").and(takesArguments(3))))))
                .type(named("ai.djl.BaseModel"))
                .transform(whenSupported(helpers, b -> b
                        .visit(save.on(named("save").and(takesArguments(2))))
                        .visit(read.on(named("readParameters").and(takesArguments(2))
                                .and(takesArgument(0, named("java.nio.file.Path")))))))
                .type(named("ai.djl.nn.core.Embedding"))
                .transform(whenSupported(helpers, b -> b.visit(embedding.on(named("forwardInternal").and(takesArguments(4))))));
    }

    private static Advice advice(TypePool types, ClassFileLocator locator, Class<?> adviceClass) {
        return Advice.to(types.describe(adviceClass.getName()).resolve(), locator);
    }

    /** Applies {@code visit} only where DJL is a supported version, after injecting the helpers there. */
    private AgentBuilder.Transformer whenSupported(HelperInjector helpers, UnaryOperator<DynamicType.Builder<?>> visit) {
        return (b, type, loader, module, domain) -> {
            if (!supported(loader)) {
                return b;
            }
            helpers.inject(loader, "dev.octet.adapters.djl.");
            return visit.apply(b);
        };
    }

    /** Whether the DJL seen by this loader is a version octet knows; warns (or stops) once otherwise. */
    private synchronized boolean supported(ClassLoader loader) {
        return supportedByLoader.computeIfAbsent(loader, l -> {
            String version = djlVersion(l);
            if (version != null && SUPPORTED_VERSIONS.contains(version)) {
                return true;
            }
            String message = "DJL " + (version == null ? "of unknown version" : version)
                    + " is not a version octet supports (" + String.join(", ", SUPPORTED_VERSIONS.stream().sorted().toList())
                    + "); its optimizer state stays 32-bit";
            if (OctetRuntime.policy().onError() == Policy.OnError.FAIL) {
                System.err.println("[octet] " + message + ", and the policy says onError: fail");
                System.exit(2);
            }
            OctetRuntime.warnOnce("djl-version", message);
            return false;
        });
    }

    static String djlVersion(ClassLoader loader) {
        ClassLoader l = loader != null ? loader : ClassLoader.getSystemClassLoader();
        try (InputStream in = l.getResourceAsStream(VERSION_RESOURCE)) {
            if (in == null) {
                return null;
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("djl_version");
        } catch (IOException e) {
            return null;
        }
    }
}
