package dev.octet.policy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile or broken policy files: each is one located PolicyException, quickly, never a stack trace,
 * a hang or an exhausted JVM, and its message quotes at most a short excerpt of the input.
 */
class PolicyHostileInputTest {

    private static final Duration QUICKLY = Duration.ofSeconds(10);

    static Stream<Arguments> hostile() {
        String longString = "y".repeat(4000);
        String aliases = "stableEmbeddings:\n  - &big \"" + longString + "\"\n"
                + IntStream.range(0, 5000).mapToObj(i -> "  - *big\n").collect(Collectors.joining());
        return Stream.of(
                Arguments.of("explicit tag", "defaults:\n  bits: !!int abc\n", "policy:2:9: 'bits' in defaults is abc"),
                Arguments.of("explicit float tag", "defaults:\n  minQuantizedSize: !!float x\n", "policy:2:21:"),
                Arguments.of("deep flow nesting", "defaults: " + "[".repeat(20000) + "]".repeat(20000) + "\n",
                        "policy:1:75: the YAML is nested more than 64 levels"),
                Arguments.of("deep block nesting", "defaults:\n" + IntStream.range(1, 300)
                        .mapToObj(i -> " ".repeat(i) + "k" + i + ":\n").collect(Collectors.joining()),
                        "the YAML is nested more than 64 levels"),
                Arguments.of("deep sequence", "rules:\n" + "- ".repeat(5000) + "x\n", "policy:2:1: the YAML is nested"),
                Arguments.of("aliases of a long string", aliases, "has 4000 characters"),
                Arguments.of("huge glob", "rules:\n  - match:\n      name: \"" + "a".repeat(200_000) + "\"\n    bits: 8\n",
                        "policy:3:13: a value of 200000 characters"),
                Arguments.of("huge integer", "defaults:\n  bits: " + "9".repeat(100_000) + "\n",
                        "policy:2:9: a value of 100000 characters"),
                Arguments.of("long integer", "defaults:\n  bits: " + "9".repeat(4000) + "\n",
                        "policy:2:9: 'bits' in defaults is 999"),
                Arguments.of("file too large", "#" + "x".repeat(300_000) + "\n", "larger than 256 KiB"),
                Arguments.of("YAML 2.0", "%YAML 2.0\n---\ndefaults: {}\n", "policy:1:1: the file asks for YAML version 2.0"),
                Arguments.of("tab after a key", "defaults:\n  bits:\t8\n", "policy:2:8: malformed YAML"),
                Arguments.of("tab as indentation", "defaults:\n\tbits: 8\n", "policy:2:1: malformed YAML"),
                Arguments.of("empty range", "rules:\n  - match:\n      name: \"[z-a]\"\n    bits: 8\n",
                        "invalid glob \"[z-a]\": the range z-a is empty"),
                Arguments.of("brace explosion", "rules:\n  - match:\n      name: \"" + "{a,b}".repeat(20) + "\"\n    bits: 8\n",
                        "more than 256 alternatives"),
                Arguments.of("long regex", "rules:\n  - match:\n      name: \"/" + "a".repeat(300) + "/\"\n    bits: 8\n",
                        "a regular expression may have at most 200"),
                Arguments.of("infinite in float32", "rules:\n  - match:\n      name: \"*\"\n    optimizer:\n      learningRate: 1e39\n",
                        "policy:5:21: learningRate 1000000000000000000000000000000000000000 is infinite in float32"),
                Arguments.of("zero in float32", "rules:\n  - match:\n      name: \"*\"\n    optimizer:\n      epsilon: 1e-50\n",
                        "is zero in float32"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void isOneLocatedErrorQuickly(String what, String yaml, String expected) {
        PolicyException e = assertTimeoutPreemptively(QUICKLY,
                () -> assertThrows(PolicyException.class, () -> PolicyParser.parse(yaml, "policy")));
        assertTrue(e.getMessage().contains(expected), what + ": " + e.getMessage());
        assertTrue(e.getMessage().length() < 400, what + ": the message quotes a short excerpt, not the input ("
                + e.getMessage().length() + " characters)");
    }

    @Test
    void anEndlessOrHugeFileIsReadOnlyAsFarAsALimit(@TempDir Path dir) throws IOException {
        Path big = Files.writeString(dir.resolve("big.yaml"), "#" + "x".repeat(1 << 21));
        PolicyException e = assertTimeoutPreemptively(QUICKLY, () -> assertThrows(PolicyException.class,
                () -> PolicyParser.parse(big)));
        assertTrue(e.getMessage().contains("big.yaml") && e.getMessage().contains("larger than 256 KiB"), e.getMessage());
        Path zero = Path.of("/dev/zero");
        if (Files.isReadable(zero)) {
            PolicyException endless = assertTimeoutPreemptively(QUICKLY, () -> assertThrows(PolicyException.class,
                    () -> PolicyParser.parse(zero)));
            assertTrue(endless.getMessage().contains("larger than 256 KiB"), endless.getMessage());
        }
        PolicyException folder = assertThrows(PolicyException.class, () -> PolicyParser.parse(dir));
        assertTrue(folder.getMessage().contains("cannot read the policy file"), folder.getMessage());
    }

    @Test
    void globsThatWouldBacktrackMatchInLinearTime() {
        NamePattern pattern = NamePattern.compile("*a*a*a*a*a*a*a*a*a*a*b", 1);
        String name = "a".repeat(20_000) + "c";
        assertFalse(assertTimeoutPreemptively(QUICKLY, () -> pattern.matches(name)));
        assertTrue(pattern.matches("a".repeat(10) + "b"));
        assertTrue(NamePattern.compile("{dense,conv}[0-9]*_{W,b}", 1).matches("conv12_b"));
        assertFalse(NamePattern.compile("{dense,conv}[0-9]*_{W,b}", 1).matches("conv_W"));
        assertTrue(NamePattern.compile("[!0-9]?x\\*", 1).matches("ab" + "x*"));
        assertTrue(NamePattern.compile("[]a]", 1).matches("]"));
        assertTrue(NamePattern.compile("a{b,{c,d}e}f", 1).matches("adef"));
    }
}
