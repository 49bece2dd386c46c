package dev.octet.adapters.dl4j;

import dev.octet.adapters.core.PackedStateLayout;
import dev.octet.policy.Decision;
import dev.octet.policy.ParameterInfo;
import org.deeplearning4j.nn.api.TrainingConfig;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * What octet decided for one DL4J parameter when the updater was laid out, and so the size of its
 * state in DL4J's float view ({@link PackedStateLayout}).
 */
final class ParamPlan {

    final TrainingConfig layer;
    final String variable;
    final String name;
    final long elements;
    final IUpdater updater;
    /** The updater configuration octet steps this parameter with: DL4J's, with the policy's overrides. */
    final IUpdater config;
    final Dl4jUpdaterMath math;
    final Decision decision;
    final long[] shape;
    /** What the policy was asked about. */
    final ParameterInfo info;

    ParamPlan(TrainingConfig layer, String variable, String name, long[] shape, long elements, IUpdater updater,
            Dl4jUpdaterMath math, ParameterInfo info, Decision decision) {
        this.layer = layer;
        this.variable = variable;
        this.name = name;
        this.shape = shape;
        this.elements = elements;
        this.updater = updater;
        this.math = math;
        this.info = info;
        this.decision = decision;
        this.config = math == null ? updater : Dl4jUpdaterMath.withOverrides(updater, decision.overrides(), name);
    }

    boolean handledByOctet() {
        return math != null;
    }

    boolean quantized() {
        return handledByOctet() && decision.bits() == 8;
    }

    /** Its place in the packed layout (words per statistic and so on). */
    PackedStateLayout.Param packed() {
        return new PackedStateLayout.Param(name, elements, quantized() ? 8 : 32, decision.blockSize());
    }

    /** The state size DL4J is told for this parameter. */
    long stateSize() {
        return math.statistics(updater).length * packed().wordsPerStatistic();
    }
}
