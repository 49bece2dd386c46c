package dev.octet.adapters.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The stable embedding's layer norm on real ND4J arrays: what it computes and its gradient. */
class StableEmbeddingActivationIT {

    private final StableEmbeddingActivation norm = new StableEmbeddingActivation(new ActivationIdentity(), 1);

    @Test
    void normalisesEachOutputVectorOverTheEmbeddingDimension() {
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 8, 5).muli(4).addi(2); // [minibatch, embedding, time]
        INDArray y = norm.getActivation(x.dup(), true);
        for (int b = 0; b < 3; b++) {
            for (int t = 0; t < 5; t++) {
                INDArray v = y.get(org.nd4j.linalg.indexing.NDArrayIndex.point(b), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                        org.nd4j.linalg.indexing.NDArrayIndex.point(t));
                assertEquals(0.0, v.meanNumber().doubleValue(), 1e-9);
                assertEquals(1.0, v.mul(v).meanNumber().doubleValue(), 1e-3); // variance, up to the epsilon
            }
        }
    }

    @Test
    void itsGradientMatchesFiniteDifferences() {
        Nd4j.getRandom().setSeed(2);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 6, 3);
        INDArray upstream = Nd4j.rand(DataType.DOUBLE, 2, 6, 3).subi(0.5);
        INDArray analytic = norm.backprop(x.dup(), upstream.dup()).getFirst();
        double h = 1e-6;
        for (int i = 0; i < x.length(); i++) {
            INDArray plus = x.dup();
            INDArray minus = x.dup();
            plus.putScalar(i, x.getDouble(i) + h);
            minus.putScalar(i, x.getDouble(i) - h);
            double numeric = (loss(plus, upstream) - loss(minus, upstream)) / (2 * h);
            assertEquals(numeric, analytic.getDouble(i), 1e-5, "element " + i);
        }
    }

    private double loss(INDArray x, INDArray upstream) {
        return norm.getActivation(x, true).mul(upstream).sumNumber().doubleValue();
    }
}
