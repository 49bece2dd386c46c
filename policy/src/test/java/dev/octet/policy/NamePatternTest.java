package dev.octet.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class NamePatternTest {

    @ParameterizedTest(name = "{0} ~ {1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            dense*_W          | dense1_W        | true
            dense*_W          | dense_W         | true
            dense*_W          | dense1_W_x      | false
            dense*_W          | xdense1_W       | false
            *                 | ''              | true
            *                 | a/b.c           | true
            0_?               | 0_b             | true
            0_?               | 0_RW            | false
            layer[0-9]_W      | layer7_W        | true
            layer[!0-9]_W     | layer7_W        | false
            layer[^0-9]_W     | layerx_W        | true
            [-a]              | -               | true
            []]               | ]               | true
            {dense,conv}*     | conv2           | true
            {dense,conv}*     | lstm            | false
            {a,{b,c}d}        | cd              | true
            a.b               | axb             | false
            'a+b(c)$^|x'      | 'a+b(c)$^|x'    | true
            \\*               | *               | true
            \\*               | x               | false
            a,b}              | a,b}            | true
            /dense[0-9]+_W/   | dense12_W       | true
            /dense[0-9]+_W/   | dense12_Wx      | false
            /Dense.*/         | DenseLayer      | true
            /                 | /               | true
            """)
    void matchesWholeNames(String pattern, String name, boolean matches) {
        assertEquals(matches, NamePattern.compile(pattern, 0).matches(name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"*", "/.*/"})
    void unknownNameMatchesNothing(String pattern) {
        assertFalse(NamePattern.compile(pattern, 0).matches(null));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            ''        | empty pattern
            //        | empty pattern
            /a(/      | invalid regular expression /a(/: Unclosed group
            /*/       | invalid regular expression /*/: Dangling meta character '*'
            a[b       | unclosed '['
            [!        | unclosed '['
            {a,b      | unclosed '{'
            """)
    void rejectsBadPatternsSayingWhy(String pattern, String problem) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> NamePattern.compile(pattern, 0));
        assertEquals(true, error.getMessage().contains(problem), error.getMessage());
    }
}
