package dev.octet.adapters.djl;

import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.UpdateRule;
import dev.octet.kernels.rules.MxRules;
import dev.octet.policy.OptimizerOverrides;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/**
 * One of DJL's stateful optimizers, read from the job's own instance (its hyperparameters are private
 * fields; octet reads them, never changes them), turned into octet rules step by step with DJL's
 * per-step scalars: the learning rate from the optimizer's tracker at DJL's update count, Adam's bias
 * correction computed in double from the float betas, as DJL's Java does.
 */
final class DjlOptimizerMath {

    /** DJL's optimizers octet runs, by exact class (a subclass may change the math: left to DJL). */
    enum Kind {
        ADAM("Adam"), ADAMW("AdamW"), SGD("Sgd"), NAG("Nag"), RMSPROP("RmsProp"), ADAGRAD("Adagrad"),
        ADADELTA("Adadelta");

        final String simpleName;

        Kind(String simpleName) {
            this.simpleName = simpleName;
        }

        static Kind of(Object optimizer) {
            for (Kind k : values()) {
                if (optimizer.getClass().getName().equals("ai.djl.training.optimizer." + k.simpleName)) {
                    return k;
                }
            }
            return null;
        }
    }

    final Kind kind;
    private final ParameterTracker learningRate;
    private final float rescale;
    private final float clip;
    private final float weightDecay;
    private final int beginNumUpdate;
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final float momentum;
    private final float rho;
    private final boolean centered;

    private DjlOptimizerMath(Kind kind, Optimizer optimizer) {
        this.kind = kind;
        Class<?> base = Optimizer.class;
        this.rescale = (Float) read(optimizer, base, "rescaleGrad");
        this.clip = (Float) read(optimizer, base, "clipGrad");
        this.weightDecay = (Float) read(optimizer, base, "weightDecays");
        this.beginNumUpdate = (Integer) read(optimizer, base, "beginNumUpdate");
        Class<?> own = optimizer.getClass();
        this.learningRate = kind == Kind.ADADELTA ? null : (ParameterTracker) read(optimizer, own, "learningRateTracker");
        boolean adam = kind == Kind.ADAM || kind == Kind.ADAMW;
        this.beta1 = adam ? (Float) read(optimizer, own, "beta1") : 0f;
        this.beta2 = adam ? (Float) read(optimizer, own, "beta2") : 0f;
        this.epsilon = switch (kind) {
            case ADAM, ADAMW, RMSPROP, ADAGRAD, ADADELTA -> (Float) read(optimizer, own, "epsilon");
            default -> 0f;
        };
        this.momentum = switch (kind) {
            case SGD, NAG, RMSPROP -> (Float) read(optimizer, own, "momentum");
            default -> 0f;
        };
        this.rho = kind == Kind.RMSPROP || kind == Kind.ADADELTA ? (Float) read(optimizer, own, "rho") : 0f;
        this.centered = kind == Kind.RMSPROP && (Boolean) read(optimizer, own, "centered");
    }

    /** The math of this optimizer, or null when octet leaves it to DJL (unknown, or no state to keep). */
    static DjlOptimizerMath of(Object optimizer) {
        Kind kind = Kind.of(optimizer);
        if (kind == null) {
            return null;
        }
        DjlOptimizerMath math = new DjlOptimizerMath(kind, (Optimizer) optimizer);
        if (kind == Kind.SGD && math.momentum == 0f) {
            return null; // plain SGD keeps no state: nothing for octet to store
        }
        return math;
    }

    String name() {
        return kind.simpleName + (centered ? " (centered)" : "");
    }

    int beginNumUpdate() {
        return beginNumUpdate;
    }

    /** The policy override keys this optimizer's formula has no place for (they are ignored). */
    List<String> withoutPlaceFor(OptimizerOverrides o) {
        List<String> ignored = new ArrayList<>();
        boolean adam = kind == Kind.ADAM || kind == Kind.ADAMW;
        if (o.learningRate() != null && learningRate == null) {
            ignored.add("learningRate");
        }
        if (o.beta1() != null && !adam) {
            ignored.add("beta1");
        }
        if (o.beta2() != null && !adam) {
            ignored.add("beta2");
        }
        if (o.epsilon() != null && (kind == Kind.SGD || kind == Kind.NAG)) {
            ignored.add("epsilon");
        }
        if (o.momentum() != null && !(kind == Kind.SGD || kind == Kind.NAG || (kind == Kind.RMSPROP && centered))) {
            ignored.add("momentum");
        }
        return ignored;
    }

    /** Whether DJL advances its update count for this optimizer (its Adadelta never does). */
    boolean countsUpdates() {
        return kind != Kind.ADADELTA;
    }

    StatisticKind[] statistics() {
        return make(1f, 0f, beta1, beta2, epsilon, momentum, 1f, 1).statistics();
    }

    /**
     * The rule for one step of one parameter; {@code t} is DJL's update count (1-based). Null where DJL's
     * optimizer refuses the step (a learning rate or weight decay that is NaN or infinite: its Adam, AdamW,
     * RmsProp and Adagrad check): the caller then lets DJL's own update run, which throws its own error.
     */
    UpdateRule rule(String parameterId, int t, OptimizerOverrides o) {
        float lr = learningRate == null ? 0f
                : o.learningRate() != null ? o.learningRate().floatValue() : learningRate.getNewValue(parameterId, t);
        float wd = o.weightDecay() != null ? o.weightDecay().floatValue() : weightDecay;
        float b1 = o.beta1() != null ? o.beta1().floatValue() : beta1;
        float b2 = o.beta2() != null ? o.beta2().floatValue() : beta2;
        float eps = o.epsilon() != null ? o.epsilon().floatValue() : epsilon;
        float mu = o.momentum() != null ? o.momentum().floatValue() : momentum;
        float lambda = 0f;
        if (kind == Kind.ADAM || kind == Kind.ADAMW) {
            double coef1 = 1.0 - Math.pow(b1, t);
            double coef2 = 1.0 - Math.pow(b2, t);
            lambda = (float) (lr * Math.sqrt(coef2) / coef1);
        }
        boolean refused = switch (kind) {
            case ADAM -> !finite(lambda) || !finite(wd);
            case ADAMW, RMSPROP, ADAGRAD -> !finite(lr) || !finite(wd);
            default -> false;
        };
        return refused ? null : make(lr, wd, b1, b2, eps, mu, lambda, t);
    }

    private UpdateRule make(float lr, float wd, float b1, float b2, float eps, float mu, float lambda, int t) {
        MxRules.Prep pytorch = new MxRules.Prep(rescale, clip, true);
        MxRules.Prep mxnet = new MxRules.Prep(rescale, clip, false);
        return switch (kind) {
            case ADAM -> MxRules.Adam.adam(pytorch, b1, b2, eps, lambda, wd, t);
            case ADAMW -> MxRules.Adam.adamW(pytorch, b1, b2, eps, lambda, lr, wd, t);
            case SGD -> new MxRules.Sgd(pytorch, lr, wd, mu);
            case NAG -> new MxRules.Nag(mxnet, lr, wd, mu);
            case RMSPROP -> centered ? new MxRules.CenteredRmsProp(mxnet, lr, wd, rho, mu, eps)
                    : new MxRules.RmsProp(mxnet, lr, wd, rho, eps);
            case ADAGRAD -> new MxRules.Adagrad(mxnet, lr, wd, eps);
            case ADADELTA -> new MxRules.Adadelta(new MxRules.Prep(rescale, clip > 0f ? clip : -1f, false), wd, rho, eps);
        };
    }

    private static boolean finite(float x) {
        return !Float.isNaN(x) && !Float.isInfinite(x);
    }

    private static Object read(Object target, Class<?> declaring, String name) {
        try {
            Field f = declaring.getDeclaredField(name);
            f.setAccessible(true);
            return f.get(target);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("cannot read " + declaring.getSimpleName() + "." + name
                    + " of this DJL version", e);
        }
    }
}
