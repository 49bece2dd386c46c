package dev.octet.adapters.dl4j;

import dev.octet.policy.Decision;
import org.deeplearning4j.nn.api.TrainingConfig;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * What octet decided for one DL4J parameter when the updater was laid out, and the size of its state
 * in DL4J's float view. Per statistic, a quantized parameter takes {@code ceil(n/4)} words of codes
 * (four one-byte codes per float word) followed by {@code ceil(n/B)} absmax words; a 32-bit one takes
 * {@code n} words as in DL4J.
 */
final class ParamPlan {

    final TrainingConfig layer;
    final String variable;
    final String name;
    final long elements;
    final IUpdater updater;
    final Dl4jUpdaterMath math;
    final Decision decision;
    final long[] shape;

    ParamPlan(TrainingConfig layer, String variable, String name, long[] shape, long elements, IUpdater updater,
            Dl4jUpdaterMath math, Decision decision) {
        this.layer = layer;
        this.variable = variable;
        this.name = name;
        this.shape = shape;
        this.elements = elements;
        this.updater = updater;
        this.math = math;
        this.decision = decision;
    }

    boolean handledByOctet() {
        return math != null;
    }

    boolean quantized() {
        return handledByOctet() && decision.bits() == 8;
    }

    int statistics() {
        return math.statistics().length;
    }

    /** Float words of one statistic of this parameter in the state view. */
    long wordsPerStatistic() {
        if (!quantized()) {
            return elements;
        }
        return codeWords() + absmaxWords();
    }

    long codeWords() {
        return (elements + 3) / 4;
    }

    long absmaxWords() {
        return (elements + decision.blockSize() - 1) / decision.blockSize();
    }

    /** The state size DL4J is told for this parameter. */
    long stateSize() {
        return statistics() * wordsPerStatistic();
    }
}
