package dev.octet.kernels.cuda;

import dev.octet.kernels.StatisticFloor;
import dev.octet.kernels.StatisticKind;
import dev.octet.kernels.StepOptions;
import dev.octet.kernels.UpdateRule;
import dev.octet.kernels.rules.AdaBeliefRule;
import dev.octet.kernels.rules.AdaDeltaRule;
import dev.octet.kernels.rules.AdaMaxRule;
import dev.octet.kernels.rules.AdamRule;
import dev.octet.kernels.rules.AmsGradRule;
import dev.octet.kernels.rules.LionRule;
import dev.octet.kernels.rules.MomentumRule;
import dev.octet.kernels.rules.MxRules;
import dev.octet.kernels.rules.NadamRule;
import dev.octet.kernels.rules.SquaredAverageRule;
import dev.octet.kernels.rules.VelocityNesterovRule;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One step's rule and options as the CUDA kernels take them: which kernel ({@link Op}), the
 * {@code struct Rule} of {@code octet_kernels.cu} (28 four-byte fields, passed by value), and which
 * statistics the rule divides by (their search tables never round a positive value to zero).
 *
 * <p>The GPU knows every rule of {@code dev.octet.kernels.rules}: {@link AdamRule} (Adam, AdamW, LAMB),
 * {@link MomentumRule} (momentum, Nesterov, LARS), {@link SquaredAverageRule} (RMSProp, Adagrad),
 * {@link LionRule}, {@link NadamRule}, {@link AdaMaxRule}, {@link AmsGradRule}, {@link AdaBeliefRule},
 * {@link AdaDeltaRule}, {@link VelocityNesterovRule} and the MXNet convention's operators of
 * {@link MxRules}. Any other rule (a framework adapter's own) stays on the CPU: {@link #supports}.
 */
public record CudaRule(Op op, byte[] args, StatisticKind[] statistics, boolean[] divides, boolean trustRatio) {

    /** Size of {@code struct Rule}. */
    public static final int BYTES = 28 * 4;

    /**
     * The kernel family of a rule; the names are the kernels' entry points (8-bit state; with
     * {@code _f32} appended, float32 state).
     */
    public enum Op {
        ADAM("octet_adam"), ADAM_SQUARE_FIRST("octet_adam_square_first"), MOMENTUM("octet_momentum"),
        SQUARED_AVERAGE("octet_sqavg"), LION("octet_lion"),
        NADAM("octet_nadam"), ADAMAX("octet_adamax"), AMSGRAD("octet_amsgrad"), ADABELIEF("octet_adabelief"),
        ADADELTA("octet_adadelta"), VELOCITY_NESTEROV("octet_velocity_nesterov"),
        MX_ADAM("octet_mx_adam"), MX_SGD("octet_mx_sgd"), MX_NAG("octet_mx_nag"), MX_RMSPROP("octet_mx_rmsprop"),
        MX_RMSPROP_CENTERED("octet_mx_rmsprop_centered"), MX_ADAGRAD("octet_mx_adagrad"),
        MX_ADADELTA("octet_mx_adadelta");

        final String kernel;

        Op(String kernel) {
            this.kernel = kernel;
        }
    }

    public static boolean supports(UpdateRule rule) {
        return rule instanceof AdamRule || rule instanceof MomentumRule || rule instanceof SquaredAverageRule
                || rule instanceof LionRule || rule instanceof NadamRule || rule instanceof AdaMaxRule
                || rule instanceof AmsGradRule || rule instanceof AdaBeliefRule || rule instanceof AdaDeltaRule
                || rule instanceof VelocityNesterovRule || rule instanceof MxRules.Adam || rule instanceof MxRules.Sgd
                || rule instanceof MxRules.Nag || rule instanceof MxRules.RmsProp || rule instanceof MxRules.CenteredRmsProp
                || rule instanceof MxRules.Adagrad || rule instanceof MxRules.Adadelta;
    }

    public static CudaRule of(UpdateRule rule, StepOptions options) {
        float beta1 = 0, beta2 = 0, eps = 0, momentum = 0, dampening = 0, l2 = 0, decay = 0, weight = 0;
        float learningRate = 0, correction = 0;
        boolean nesterov = false, firstStep = false, l2InDirection = false;
        // The MXNet convention's own gradient preparation and decays (MxRules); off for the other rules.
        MxRules.Prep prep = new MxRules.Prep(1f, -1f, false);
        float weightDecay = 0, lambda = 0, decoupledLr = 0, decoupledWd = 0;
        Op op;
        if (rule instanceof AdamRule a) {
            op = a.squareFirst() ? Op.ADAM_SQUARE_FIRST : Op.ADAM;
            beta1 = a.beta1();
            beta2 = a.beta2();
            eps = a.epsilon();
        } else if (rule instanceof MomentumRule m) {
            op = Op.MOMENTUM;
            momentum = m.momentum();
            dampening = m.dampening();
            l2 = m.l2();
            nesterov = m.nesterov();
            firstStep = m.firstStep();
        } else if (rule instanceof SquaredAverageRule s) {
            op = Op.SQUARED_AVERAGE;
            eps = s.epsilon();
            l2 = s.l2();
            decay = s.decay();
            weight = s.weight();
            l2InDirection = s.l2InDirection();
        } else if (rule instanceof LionRule l) {
            op = Op.LION;
            beta1 = l.beta1();
            beta2 = l.beta2();
        } else if (rule instanceof NadamRule n) {
            op = Op.NADAM;
            beta1 = n.beta1();
            beta2 = n.beta2();
            eps = n.epsilon();
            learningRate = n.learningRate();
            correction = n.correction1();
        } else if (rule instanceof AdaMaxRule a) {
            op = Op.ADAMAX;
            beta1 = a.beta1();
            beta2 = a.beta2();
        } else if (rule instanceof AmsGradRule a) {
            op = Op.AMSGRAD;
            beta1 = a.beta1();
            beta2 = a.beta2();
            eps = a.epsilon();
        } else if (rule instanceof AdaBeliefRule a) {
            op = Op.ADABELIEF;
            beta1 = a.beta1();
            beta2 = a.beta2();
            eps = a.epsilon();
        } else if (rule instanceof AdaDeltaRule a) {
            op = Op.ADADELTA;
            decay = a.rho();
            eps = a.epsilon();
        } else if (rule instanceof VelocityNesterovRule v) {
            op = Op.VELOCITY_NESTEROV;
            momentum = v.momentum();
            learningRate = v.learningRate();
        } else if (rule instanceof MxRules.Adam a) {
            op = Op.MX_ADAM;
            prep = a.prep();
            beta1 = a.beta1();
            beta2 = a.beta2();
            eps = a.epsilon();
            lambda = a.lambda();
            weightDecay = a.weightDecay();
            decoupledLr = a.decoupledLearningRate();
            decoupledWd = a.decoupledWeightDecay();
        } else if (rule instanceof MxRules.Sgd a) {
            op = Op.MX_SGD;
            prep = a.prep();
            learningRate = a.learningRate();
            weightDecay = a.weightDecay();
            momentum = a.momentum();
        } else if (rule instanceof MxRules.Nag a) {
            op = Op.MX_NAG;
            prep = a.prep();
            learningRate = a.learningRate();
            weightDecay = a.weightDecay();
            momentum = a.momentum();
        } else if (rule instanceof MxRules.RmsProp a) {
            op = Op.MX_RMSPROP;
            prep = a.prep();
            learningRate = a.learningRate();
            weightDecay = a.weightDecay();
            decay = a.rho();
            eps = a.epsilon();
        } else if (rule instanceof MxRules.CenteredRmsProp a) {
            op = Op.MX_RMSPROP_CENTERED;
            prep = a.prep();
            learningRate = a.learningRate();
            weightDecay = a.weightDecay();
            decay = a.rho();
            momentum = a.momentum();
            eps = a.epsilon();
        } else if (rule instanceof MxRules.Adagrad a) {
            op = Op.MX_ADAGRAD;
            prep = a.prep();
            learningRate = a.learningRate();
            weightDecay = a.weightDecay();
            eps = a.epsilon();
        } else if (rule instanceof MxRules.Adadelta a) {
            op = Op.MX_ADADELTA;
            prep = a.prep();
            weightDecay = a.weightDecay();
            decay = a.rho();
            eps = a.epsilon();
        } else {
            throw new UnsupportedOperationException("no CUDA kernel for " + rule.getClass().getName()
                    + "; the GPU runs the rules of dev.octet.kernels.rules");
        }
        StatisticFloor floor = rule.decodedFloor();
        StatisticFloor.Form expected = switch (op) {
            case ADAM, ADAM_SQUARE_FIRST, NADAM, AMSGRAD, MX_ADAM -> StatisticFloor.Form.SQUARE;
            case ADAMAX -> StatisticFloor.Form.MAGNITUDE;
            case ADABELIEF -> StatisticFloor.Form.CONSTANT;
            default -> StatisticFloor.Form.NONE;
        };
        if (floor.form() != expected && floor.form() != StatisticFloor.Form.NONE) {
            throw new IllegalArgumentException("the " + op + " kernel applies a floor of form " + expected + ", not "
                    + floor.form());
        }
        StatisticKind[] kinds = rule.statistics();
        boolean[] divides = new boolean[kinds.length];
        for (int k = 0; k < kinds.length; k++) {
            divides[k] = rule.divides(k);
        }
        if (kinds.length > 2 && divides[2] != divides[1]) {
            throw new IllegalArgumentException("statistics 1 and 2 share one search table on the GPU: "
                    + "the rule must divide by both or neither");
        }
        if (options.gradDivisor() != 1f) {
            throw new IllegalArgumentException("the GPU kernels do not divide the gradient (gradDivisor "
                    + options.gradDivisor() + "): the framework's own division runs first there");
        }
        ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putFloat(beta1).putFloat(beta2).putFloat(eps).putFloat(rule.stepScale())
                .putFloat(rule.decayBefore()).putFloat(rule.decayAfter())
                .putFloat(momentum).putFloat(dampening).putFloat(l2).putFloat(decay).putFloat(weight)
                .putFloat(options.gradScale()).putFloat(options.gradClip()).putFloat(rule.maxUpdateNormRatio())
                .putFloat(learningRate).putFloat(correction)
                .putInt(nesterov ? 1 : 0).putInt(firstStep ? 1 : 0).putInt(l2InDirection ? 1 : 0)
                .putInt(switch (options.output()) {
                    case APPLY_TO_PARAMS -> 0;
                    case WRITE_UPDATE_TO_GRADIENT -> 1;
                    case APPLY_TO_PARAMS_ZEROING_GRADIENT -> 2;
                    case WRITE_UPDATE_TO_GRADIENT_AND_APPLY -> throw new IllegalArgumentException(
                            "the GPU kernels write DL4J's update or apply it, not both");
                })
                .putFloat(floor.coefficient())
                .putFloat(prep.rescale()).putFloat(prep.clip()).putInt(prep.oneSided() ? 1 : 0)
                .putFloat(weightDecay).putFloat(lambda).putFloat(decoupledLr).putFloat(decoupledWd);
        return new CudaRule(op, b.array(), kinds, divides, rule.maxUpdateNormRatio() > 0f);
    }
}
