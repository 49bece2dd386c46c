package dev.octet.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ParameterInfoTest {

    @ParameterizedTest
    @CsvSource({"'', 1", "7, 7", "512 2048, 1048576", "3 0 5, 0"})
    void elementsIsTheProductOfTheShape(String dimensions, long elements) {
        long[] shape = dimensions.isEmpty() ? new long[0]
                : java.util.Arrays.stream(dimensions.split(" ")).mapToLong(Long::parseLong).toArray();
        assertEquals(elements, new ParameterInfo("p", shape, null, null, null).elements());
    }

    @Test
    void isImmutableAndComparesShapesByContent() {
        long[] shape = {2, 3};
        ParameterInfo info = new ParameterInfo("p", shape, "l", "DenseLayer", "Adam");
        shape[0] = 99;
        info.shape()[1] = 99;
        assertEquals(new ParameterInfo("p", new long[] {2, 3}, "l", "DenseLayer", "Adam"), info);
        assertEquals(new ParameterInfo("p", new long[] {2, 3}, "l", "DenseLayer", "Adam").hashCode(), info.hashCode());
    }

    @Test
    void rejectsNegativeDimensions() {
        assertThrows(IllegalArgumentException.class, () -> new ParameterInfo("p", new long[] {2, -1}, null, null, null));
    }
}
