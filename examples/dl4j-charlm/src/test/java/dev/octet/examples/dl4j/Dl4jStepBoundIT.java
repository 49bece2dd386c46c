package dev.octet.examples.dl4j;

import static dev.octet.examples.it.ChildJvm.agent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.examples.dl4j.Dl4jAgentIT.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * 8-bit steps never go further than DL4J's exact Adam could (octet's guards, StatisticFloor), in real
 * DL4J jobs ({@code WideSoftmaxJob}: a tanh layer and a wide softmax output whose classes follow a Zipf
 * law) in a child JVM with the agent, against the same job without it. Every step's largest parameter
 * change stays within Adam's own bound {@code alpha_t sqrt(C_t)}: the reference's arithmetic goes far
 * beyond it (the conformance runner shows its steps at up to 8.9 times the bound on its own vectors).
 */
class Dl4jStepBoundIT {

    private static final Pattern STEP = Pattern.compile("^step (\\d+) loss ([0-9.]+) largest-change ([0-9.eE+-]+)$",
            Pattern.MULTILINE);
    private static final double LR = 1e-3;

    private static Run wideSoftmax(List<String> jvmArgs, String... args) throws Exception {
        Run run = Dl4jAgentIT.wideSoftmax(jvmArgs, args);
        assertEquals(0, run.exitCode(), run.output());
        return run;
    }

    /** DL4J Adam's largest step at step {@code t}: {@code alpha_t sqrt(C_t)} (betas 0.9, 0.999). */
    static double adamBound(double lr, int t) {
        double b1 = 0.9;
        double b2 = 0.999;
        double sum = 0;
        for (int j = 0; j < t; j++) {
            sum += Math.pow(b1 * b1 / b2, j);
        }
        double alpha = lr * Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t));
        return alpha * Math.sqrt((1 - b1) * (1 - b1) / (1 - b2) * sum);
    }

    private static List<double[]> steps(Run run) {
        List<double[]> out = new ArrayList<>();
        Matcher m = STEP.matcher(run.output());
        while (m.find()) {
            out.add(new double[] {Integer.parseInt(m.group(1)), Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3))});
        }
        return out;
    }

    private static double value(Run run, String label) {
        Matcher m = Pattern.compile("^" + Pattern.quote(label) + " ([0-9.eE+-]+)", Pattern.MULTILINE).matcher(run.output());
        assertTrue(m.find(), label + " in " + run.output());
        return Double.parseDouble(m.group(1));
    }

    /** Each step's largest change within Adam's bound at that step; returns the sum of the bounds. */
    private static double assertWithinTheBound(Run run, double lr, int expectedSteps) {
        List<double[]> steps = steps(run);
        assertEquals(expectedSteps, steps.size(), run.output());
        double total = 0;
        for (double[] s : steps) {
            double bound = adamBound(lr, (int) s[0]);
            total += bound;
            assertTrue(Double.isFinite(s[1]), "loss at step " + (int) s[0] + ": " + s[1]);
            assertTrue(s[2] <= bound * (1 + 1e-4), "step " + (int) s[0] + " moved a weight by " + s[2]
                    + ", beyond DL4J Adam's own bound " + bound);
        }
        return total;
    }

    /**
     * The case: a 1024 x 16385 softmax layer (16.8M weights, 8-bit), 20 steps at lr 1e-3.
     * Reference arithmetic: max |p - p0| 0.27; DL4J: 0.02.
     */
    @Test
    void aWideSoftmaxLayerStaysWithinAdamsBoundAndNearDl4j() throws Exception {
        Run plain = wideSoftmax(List.of(), "--steps", "20");
        Run octet = wideSoftmax(List.of(agent()), "--steps", "20");
        assertTrue(Pattern.compile("1_W\\s+\\[1024, 16385]\\s+16,778,240\\s+Adam\\s+8-bit").matcher(octet.output()).find(),
                octet.output());
        double total = assertWithinTheBound(octet, LR, 20);
        double moved8 = value(octet, "max |p - p0|");
        double moved32 = value(plain, "max |p - p0|");
        assertTrue(moved8 <= total, "moved " + moved8 + ", more than the 20 steps' bounds allow: " + total);
        assertTrue(moved8 <= 1.5 * moved32, "8-bit moved a weight by " + moved8 + ", DL4J by " + moved32);
    }

    /**
     * A gradient outlier at step 10 of 20 in a fraction of all elements: the largest parameter ends
     * within 1% of DL4J's own run, each step within Adam's bound; and a float32 policy gives DL4J's
     * own result (at 1e20 the squared gradient overflows in DL4J, whose parameter then stays: octet's
     * float32 state rounds as DL4J does and so does the same).
     */
    @ParameterizedTest
    @CsvSource({"1e3, 0.001", "1e20, 0.01", "1e30, 0.01"})
    void gradientOutliersEndWhereDl4jsOwnRunEnds(String value, String fraction) throws Exception {
        String[] args = {"--in", "256", "--classes", "4097", "--steps", "20", "--inject-step", "10",
            "--inject-value", value, "--inject-fraction", fraction};
        Path all32 = Files.createDirectories(Path.of(System.getProperty("octet.workDir", "target/it")))
                .resolve("step-bound-32.yaml");
        Files.writeString(all32, "defaults:\n  bits: 32\n");
        Run plain = wideSoftmax(List.of(), args);
        Run octet = wideSoftmax(List.of(agent()), args);
        Run float32 = wideSoftmax(List.of(agent("policy=" + all32)), args);
        assertWithinTheBound(octet, LR, 20);
        double max8 = value(octet, "max |p|");
        double max32 = value(plain, "max |p|");
        assertTrue(Math.abs(max8 - max32) <= 0.01 * max32, value + ": max |p| " + max8 + " under octet, " + max32 + " in DL4J");
        assertEquals(value(plain, "max |p - p0|"), value(float32, "max |p - p0|"), 1e-6, "float32 policy: DL4J's own result");
        assertEquals(steps(plain).get(19)[1], steps(float32).get(19)[1], 1e-6, "float32 policy: DL4J's own loss");
    }

    /**
     * 200 steps at lr 2e-3 with 8,193 Zipf classes (most output weights see a target rarely): every
     * step within Adam's bound, and the loss of the last 100 steps within 1% of DL4J's.
     */
    @Test
    void aLongRunWithRareClassesTracksDl4j() throws Exception {
        String[] args = {"--in", "256", "--classes", "8193", "--steps", "200", "--lr", "2e-3"};
        Run plain = wideSoftmax(List.of(), args);
        Run octet = wideSoftmax(List.of(agent()), args);
        assertWithinTheBound(octet, 2e-3, 200);
        double loss8 = meanLossOfLast(octet, 100);
        double loss32 = meanLossOfLast(plain, 100);
        assertTrue(Math.abs(loss8 - loss32) <= 0.01 * loss32, "mean loss of the last 100 steps " + loss8 + " vs " + loss32);
    }

    private static double meanLossOfLast(Run run, int n) {
        List<double[]> steps = steps(run);
        return steps.subList(steps.size() - n, steps.size()).stream().mapToDouble(s -> s[1]).average().orElseThrow();
    }
}
