package dev.octet.policy;

import java.util.Arrays;
import java.util.Objects;

/**
 * What the policy may look at when deciding about one trainable parameter.
 *
 * @param name      the parameter's name as the framework reports it, e.g. {@code dense1_W}
 * @param shape     its dimensions; an empty shape is a scalar
 * @param layerName the name of the layer that owns it, or {@code null} if unknown
 * @param layerType the simple class name of that layer, e.g. {@code DenseLayer} or {@code Linear},
 *                  or {@code null} if unknown
 * @param optimizer the optimizer's name, e.g. {@code Adam}, or {@code null} if unknown
 */
public record ParameterInfo(String name, long[] shape, String layerName, String layerType, String optimizer) {

    public ParameterInfo {
        Objects.requireNonNull(name, "name");
        shape = Objects.requireNonNull(shape, "shape").clone();
        for (long dimension : shape) {
            if (dimension < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
        }
    }

    /** A copy: the record stays immutable. */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The number of elements: the product of the shape, 1 for a scalar (empty shape). */
    public long elements() {
        long elements = 1;
        for (long dimension : shape) {
            elements = Math.multiplyExact(elements, dimension);
        }
        return elements;
    }

    // Records compare arrays by identity; two descriptions of the same parameter should be equal.
    @Override
    public boolean equals(Object other) {
        return other instanceof ParameterInfo that
                && name.equals(that.name)
                && Arrays.equals(shape, that.shape)
                && Objects.equals(layerName, that.layerName)
                && Objects.equals(layerType, that.layerType)
                && Objects.equals(optimizer, that.optimizer);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, Arrays.hashCode(shape), layerName, layerType, optimizer);
    }

    @Override
    public String toString() {
        return "ParameterInfo[name=" + name + ", shape=" + Arrays.toString(shape) + ", layerName=" + layerName
                + ", layerType=" + layerType + ", optimizer=" + optimizer + "]";
    }
}
