package dev.octet.adapters.dl4j;

import java.util.stream.IntStream;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The layer normalisation of a stable embedding (Dettmers et al.), placed where DL4J lets a layer
 * transform its output: the embedding layer's activation. Forward, the layer's own activation, then
 * each output vector normalised to zero mean and unit variance over the embedding dimension; backward,
 * the matching gradient. DL4J recomputes the layer's pre-activation in backprop, so nothing is cached.
 *
 * <p>It is saved in the model's configuration under this class name, so a model trained with it cannot
 * be loaded without octet as if it were a plain embedding: DL4J reports the unknown class instead.
 */
public final class StableEmbeddingActivation extends BaseActivationFunction {

    private static final double EPSILON = 1e-5;

    private IActivation activation;
    private int featureAxis;

    /** For DL4J's JSON reader. */
    public StableEmbeddingActivation() {
    }

    StableEmbeddingActivation(IActivation activation, int featureAxis) {
        this.activation = activation;
        this.featureAxis = featureAxis;
    }

    IActivation wrapped() {
        return activation;
    }

    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        INDArray a = activation.getActivation(in, training);
        Normalized n = normalize(a);
        a.assign(n.normalized());
        return a;
    }

    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        assertShape(in, epsilon);
        Normalized n = normalize(activation.getActivation(in.dup(), true));
        int[] others = others(epsilon.rank());
        // d a = (dy - mean(dy) - xhat * mean(dy * xhat)) / sigma, over the embedding dimension.
        INDArray gradient = Broadcast.sub(epsilon, epsilon.mean(featureAxis), epsilon.ulike(), others);
        INDArray projection = Broadcast.mul(n.normalized(), epsilon.mul(n.normalized()).mean(featureAxis),
                epsilon.ulike(), others);
        gradient.subi(projection);
        Broadcast.div(gradient, n.sigma(), gradient, others);
        return activation.backprop(in, gradient);
    }

    private record Normalized(INDArray normalized, INDArray sigma) {
    }

    private Normalized normalize(INDArray a) {
        int[] others = others(a.rank());
        INDArray centered = Broadcast.sub(a, a.mean(featureAxis), a.ulike(), others);
        INDArray sigma = Transforms.sqrt(centered.mul(centered).mean(featureAxis).addi(EPSILON), false);
        return new Normalized(Broadcast.div(centered, sigma, centered, others), sigma);
    }

    private int[] others(int rank) {
        return IntStream.range(0, rank).filter(d -> d != featureAxis).toArray();
    }

    @Override
    public String toString() {
        return "octet stable embedding(" + activation + ")";
    }
}
