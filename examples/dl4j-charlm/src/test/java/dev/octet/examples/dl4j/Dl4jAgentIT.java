package dev.octet.examples.dl4j;

import static dev.octet.examples.it.ChildJvm.agent;
import static dev.octet.examples.it.ChildJvm.policy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.examples.it.BootJar;
import dev.octet.examples.it.ChildJvm;
import dev.octet.examples.it.ChildLoaderLauncher;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipFile;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The example job, unchanged, in a child JVM started with {@code -javaagent:octet-agent.jar}, exactly
 * as a user starts it (real DL4J, nd4j-native CPU backend).
 */
class Dl4jAgentIT {

    private static final Pattern LOSS = Pattern.compile("^step (\\d+) loss ([0-9.]+)$", Pattern.MULTILINE);
    private static final Pattern TOTAL = Pattern.compile("total optimizer state: ([0-9,]+) bytes -> ([0-9,]+) bytes");

    /** A small model so that each run takes seconds. */
    private static final List<String> SMALL = List.of("--hidden", "64", "--embed", "32", "--seq", "32", "--batch", "16",
            "--chars", "300000", "--every", "5");

    private static Path work;
    /** What the agent says once per JVM when DL4J's step runs in octet's pass. */
    private static final String FUSED_STEP = "octet: DL4J's step (params -= update) runs in octet's update pass";
    private static final String FUSED_DIVISION = "octet: DL4J's division of the gradient by the minibatch runs in octet's update pass";
    private static final String EMPTY_REGULARIZATION = "octet: DL4J's regularization passes are left out for octet's update groups";

    @BeforeAll
    static void workDir() throws IOException {
        work = ChildJvm.workDir();
    }

    record Run(int exitCode, String output) {
        static Run of(ChildJvm.Result result) {
            return new Run(result.exitCode(), result.output());
        }

        List<Double> losses() {
            List<Double> out = new ArrayList<>();
            Matcher m = LOSS.matcher(output);
            while (m.find()) {
                out.add(Double.parseDouble(m.group(2)));
            }
            return out;
        }

        int count(String text) {
            return output.split(Pattern.quote(text), -1).length - 1;
        }
    }

    /** Runs the job; {@code jvmArgs} go before the main class (the agent among them), {@code args} after. */
    static Run job(List<String> jvmArgs, List<String> classPathPrefix, String... args) throws Exception {
        return run(jvmArgs, jobLaunch(classPathPrefix), args);
    }

    private static Run run(List<String> jvmArgs, List<String> launch, String... args) throws Exception {
        return runJava(jvmArgs, launch, small(args));
    }

    /** The class path and main class of the char-LM job. */
    private static List<String> jobLaunch(List<String> classPathPrefix) {
        List<String> classPath = new ArrayList<>(classPathPrefix);
        classPath.add(System.getProperty("octet.jobClasses"));
        classPath.add(System.getProperty("octet.jobLib") + File.separator + "*");
        return List.of("-cp", String.join(File.pathSeparator, classPath), "com.example.charlm.CharLanguageModel");
    }

    /** The small model's options, then {@code args}. */
    private static List<String> small(String... args) {
        List<String> all = new ArrayList<>(SMALL);
        all.addAll(List.of(args));
        return all;
    }

    /** The wide-softmax job ({@code WideSoftmaxJob}, test classes). */
    static Run wideSoftmax(List<String> jvmArgs, String... args) throws Exception {
        String classPath = String.join(File.pathSeparator, System.getProperty("octet.launcherClasses"),
                System.getProperty("octet.jobClasses"), System.getProperty("octet.jobLib") + File.separator + "*");
        return runJava(jvmArgs, List.of("-cp", classPath, "com.example.charlm.WideSoftmaxJob"), List.of(args));
    }

    /** Runs {@code java <jvmArgs> <launch> <args>} in a child JVM (the shared harness: {@link ChildJvm}). */
    static Run runJava(List<String> jvmArgs, List<String> launch, List<String> args) throws Exception {
        return Run.of(ChildJvm.java(jvmArgs, launch, args));
    }

    @Test
    void reportsEachParameterAndTheStateSavedAndTrains() throws Exception {
        Run run = job(List.of(agent()), List.of(), "--steps", "60");
        assertEquals(0, run.exitCode(), run.output());
        String out = run.output();
        assertTrue(out.contains("octet: optimizer state of MultiLayerUpdater (policy <defaults>)"), out);
        // The LSTM's recurrent weights (32 x 256 = 8,192 elements... 64 x 256 here) are quantized; biases are not.
        assertTrue(Pattern.compile("1_RW\\s+\\[64, 256]\\s+16,384\\s+Adam\\s+8-bit, block 256\\s+131,072\\s+33,280\\s+defaults -> 8-bit")
                .matcher(out).find(), out);
        // (DL4J 1.0.0-M2 shapes a bias [1, 256], M2.1 [256].)
        assertTrue(Pattern.compile("1_b\\s+\\[(1, )?256]\\s+256\\s+Adam\\s+float32\\s+2,048\\s+2,048\\s+defaults: 256 elements < minQuantizedSize 4,096")
                .matcher(out).find(), out);
        Matcher total = TOTAL.matcher(out);
        assertTrue(total.find(), out);
        long before = Long.parseLong(total.group(1).replace(",", ""));
        long after = Long.parseLong(total.group(2).replace(",", ""));
        assertTrue(after < 0.35 * before, "state bytes " + before + " -> " + after);

        List<Double> losses = run.losses();
        assertEquals(12, losses.size(), out);
        double first = (losses.get(0) + losses.get(1)) / 2;
        double last = (losses.get(losses.size() - 1) + losses.get(losses.size() - 2)) / 2;
        assertTrue(last < 0.9 * first, "loss went from " + first + " to " + last);
        // The harness runs jobs with OMP_WAIT_POLICY=PASSIVE: no advice about it.
        assertEquals(0, run.count("OMP_WAIT_POLICY is not set"), out);
    }

    /** Under OpenMP's default wait policy the report comes with one line of advice, once per JVM. */
    @Test
    void theDefaultOpenMpWaitPolicyGetsOneLineOfAdvice() throws Exception {
        Run run = Run.of(ChildJvm.javaWithout(List.of("OMP_WAIT_POLICY"), List.of(agent()), jobLaunch(List.of()),
                small("--steps", "3", "--every", "1")));
        assertEquals(0, run.exitCode(), run.output());
        assertEquals(1, run.count("octet: OMP_WAIT_POLICY is not set, so ND4J's idle OpenMP threads spin"), run.output());
        assertEquals(1, run.count("octet: optimizer state of MultiLayerUpdater"), run.output());
    }

    /** With every parameter kept 32-bit, octet's path gives DL4J's own parameters (AdaBelief: see below). */
    @ParameterizedTest
    @ValueSource(strings = {"adam", "nadam", "adamax", "amsgrad", "rmsprop", "adagrad", "adadelta", "nesterovs"})
    void everything32BitFollowsDl4jsOwnUpdater(String updater) throws Exception {
        Path all32 = policy("all-32.yaml", "defaults:\n  bits: 32\n");
        Path withAgent = work.resolve(updater + "-agent-32.zip");
        Path without = work.resolve(updater + "-plain.zip");
        Run a = job(List.of(agent("policy=" + all32)), List.of(), "--updater", updater, "--steps", "20", "--save", withAgent.toString());
        Run b = job(List.of(), List.of(), "--updater", updater, "--steps", "20", "--save", without.toString());
        double error = float32ParameterError(a, withAgent, b, without);
        assertTrue(error <= 1e-6, updater + ": parameters after 20 steps differ by " + error + " (relative to the largest)");
    }

    /**
     * The largest difference between the parameters a job saved under octet with everything float32
     * ({@code octetRun}) and the same job without the agent, relative to the largest parameter.
     */
    static double float32ParameterError(Run octetRun, Path octetModel, Run dl4jRun, Path dl4jModel) throws IOException {
        assertEquals(0, octetRun.exitCode(), octetRun.output());
        assertEquals(0, dl4jRun.exitCode(), dl4jRun.output());
        assertTrue(octetRun.output().contains("float32"), "octet's path ran: " + octetRun.output());
        INDArray octet = ModelSerializer.restoreMultiLayerNetwork(octetModel.toFile(), false).params();
        INDArray dl4j = ModelSerializer.restoreMultiLayerNetwork(dl4jModel.toFile(), false).params();
        return octet.sub(dl4j).amaxNumber().doubleValue() / dl4j.amaxNumber().doubleValue();
    }

    /** Every updater trains with 8-bit state: the loss falls. */
    @ParameterizedTest
    @ValueSource(strings = {"adam", "nadam", "adamax", "amsgrad", "adabelief", "rmsprop", "adagrad", "adadelta", "nesterovs"})
    void everyUpdaterTrainsWith8BitState(String updater) throws Exception {
        Run run = job(List.of(agent()), List.of(), "--updater", updater, "--steps", "40");
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(Pattern.compile("1_RW\\s+\\[64, 256]\\s+16,384\\s+\\w+\\s+8-bit, block 256").matcher(run.output()).find(),
                run.output());
        List<Double> losses = run.losses();
        double first = (losses.get(0) + losses.get(1)) / 2;
        double last = (losses.get(losses.size() - 1) + losses.get(losses.size() - 2)) / 2;
        assertTrue(last < 0.95 * first, updater + ": loss went from " + first + " to " + last);
    }

    /**
     * A rule's {@code optimizer:} overrides move the parameters it names as they say, and only those:
     * with a learning rate of 1e-30 the LSTM's recurrent weights (8-bit state) and bias (float32 state)
     * move by about 1e-30 (their zeros become tiny, the rest stays as it was in float32), while its input
     * weights, in the same DL4J update block, train. A key DL4J's updater has no place for is named in
     * one warning.
     */
    @Test
    void aRulesOptimizerOverridesApplyToTheParametersItNamesOnly() throws Exception {
        Path tinyStep = policy("tiny-step.yaml", """
                rules:
                  - match:
                      name: "1_{RW,b}"
                    optimizer:
                      learningRate: 1.0e-30
                      weightDecay: 0.01
                """);
        Path init = work.resolve("overrides-init.zip");
        Path trained = work.resolve("overrides-trained.zip");
        Run fresh = job(List.of(), List.of(), "--steps", "0", "--save", init.toString());
        Run run = job(List.of(agent("policy=" + tinyStep)), List.of(), "--steps", "10", "--save", trained.toString());
        assertEquals(0, fresh.exitCode(), fresh.output());
        assertEquals(0, run.exitCode(), run.output());
        String out = run.output();
        assertTrue(Pattern.compile("1_RW\\s+\\[64, 256]\\s+16,384\\s+Adam\\s+8-bit, block 256\\s+131,072\\s+33,280\\s+"
                + "rule 1 \\(line 2: name \"1_\\{RW,b}\"\\) -> 8-bit; optimizer: learningRate 1E-30, weightDecay 0.01").matcher(out).find(), out);
        assertEquals(1, run.count("weightDecay (DL4J applies it as the layer's regularization, before the updater)"), out);
        MultiLayerNetwork before = ModelSerializer.restoreMultiLayerNetwork(init.toFile(), false);
        MultiLayerNetwork after = ModelSerializer.restoreMultiLayerNetwork(trained.toFile(), false);
        for (String name : List.of("1_RW", "1_b", "1_W")) {
            double moved = after.getParam(name).sub(before.getParam(name)).amaxNumber().doubleValue();
            assertTrue(name.equals("1_W") ? moved > 1e-3 : moved < 1e-25, name + " moved by " + moved);
        }
    }

    /** DL4J 1.0.0-M2.1 cannot start an AdaBelief job at all (M2 can); under octet it trains. */
    @Test
    void adaBeliefFailsInDl4jAloneAndTrainsUnderOctet() throws Exception {
        Run plain = job(List.of(), List.of(), "--updater", "adabelief", "--steps", "5");
        if ("1.0.0-M2.1".equals(dl4jVersion())) {
            assertTrue(plain.exitCode() != 0 && plain.output().contains("ArrayIndexOutOfBoundsException"), plain.output());
        } else {
            assertEquals(0, plain.exitCode(), plain.output());
        }
        Path all32 = policy("all-32.yaml", "defaults:\n  bits: 32\n");
        Run octet = job(List.of(agent("policy=" + all32)), List.of(), "--updater", "adabelief", "--steps", "40");
        assertEquals(0, octet.exitCode(), octet.output());
        List<Double> losses = octet.losses();
        assertTrue(losses.get(losses.size() - 1) < losses.get(0), octet.output());
    }

    @Test
    void unsupportedDl4jVersionWarnsOnceAndTrains32Bit() throws Exception {
        Path fake = fakeDl4jVersion("0.9.1");
        Run run = job(List.of(agent()), List.of(fake.toString()), "--steps", "10");
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("[octet] WARNING: Deeplearning4j 0.9.1 is not a version octet supports"), run.output());
        assertEquals(1, run.output().split("is not a version octet supports", -1).length - 1, "warned once");
        assertFalse(run.output().contains("octet: optimizer state"), "nothing quantized");
        assertEquals(2, run.losses().size(), run.output());
    }

    @Test
    void onErrorFailStopsTheJobWithTheReason() throws Exception {
        Path fake = fakeDl4jVersion("0.9.1");
        Path failing = policy("fail.yaml", "onError: fail\n");
        Run run = job(List.of(agent("policy=" + failing)), List.of(fake.toString()), "--steps", "10");
        // Stopped by octet's exception from the first use of a DL4J class octet would have instrumented.
        assertEquals(1, run.exitCode(), run.output());
        assertTrue(run.output().contains("dev.octet.adapters.core.OctetFailure"), run.output());
        assertTrue(run.output().contains("Deeplearning4j 0.9.1 is not a version octet supports"), run.output());
        assertTrue(run.output().contains("onError: fail"), run.output());
        assertTrue(run.losses().isEmpty(), "no training step ran");
    }

    @Test
    void aMalformedPolicyStopsTheJobNamingFileLineAndFix() throws Exception {
        Path bad = policy("bad.yaml", "defaults:\n  blocksize: 256\n");
        Run run = job(List.of(agent("policy=" + bad)), List.of(), "--steps", "10");
        assertEquals(2, run.exitCode(), run.output());
        assertTrue(run.output().contains(bad + ":2:3: unknown key 'blocksize' in defaults; did you mean 'blockSize'?"),
                run.output());
    }

    /** A stable embedding trains, saves and restores under octet; without octet the model does not load silently. */
    @Test
    void aStableEmbeddingTrainsSavesAndRestoresAndNeedsTheAgent() throws Exception {
        Path stable = policy("stable.yaml", "stableEmbeddings:\n  - embed\n");
        Path saved = work.resolve("stable.zip");
        Run run = job(List.of(agent("policy=" + stable)), List.of(), "--steps", "40", "--save", saved.toString());
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(Pattern.compile("0_W\\s+\\[96, 32]\\s+3,072\\s+Adam\\s+float32\\s+24,576\\s+24,576\\s+stable embedding \"embed\"")
                .matcher(run.output()).find(), run.output());
        List<Double> losses = run.losses();
        assertTrue(losses.get(losses.size() - 1) < 0.95 * losses.get(0), run.output());

        Run resumed = job(List.of(agent("policy=" + stable)), List.of(), "--steps", "5", "--load", saved.toString());
        assertEquals(0, resumed.exitCode(), resumed.output());

        // Xavier-uniform over the weight's real shape [96, 32]: every value within sqrt(6 / 128), filling that range.
        Path initial = work.resolve("stable-initial.zip");
        assertEquals(0, job(List.of(agent("policy=" + stable)), List.of(), "--steps", "0", "--save", initial.toString()).exitCode());
        INDArray weights = ModelSerializer.restoreMultiLayerNetwork(initial.toFile(), false).getParam("0_W");
        double limit = Math.sqrt(6.0 / (96 + 32));
        assertTrue(weights.amaxNumber().doubleValue() <= limit, "max |W| " + weights.amaxNumber());
        assertTrue(weights.amaxNumber().doubleValue() >= 0.95 * limit, "max |W| " + weights.amaxNumber());
        assertEquals(0.0, weights.meanNumber().doubleValue(), 0.02);

        // Without octet, even for inference (no updater), the model does not load as a plain embedding.
        String classPath = String.join(File.pathSeparator, System.getProperty("octet.launcherClasses"),
                System.getProperty("octet.jobClasses"), System.getProperty("octet.jobLib") + File.separator + "*");
        Process inference = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                classPath, LoadForInference.class.getName(), saved.toString()).redirectErrorStream(true).start();
        String said = new String(inference.getInputStream().readAllBytes());
        assertTrue(inference.waitFor() != 0, said);
        assertTrue(said.contains("Could not resolve type id 'dev.octet.adapters.dl4j.StableEmbeddingActivation'"), said);
    }

    /** The fine-tuning job ({@code TransferLearningJob}, test classes) with the example's small options. */
    static Run transferLearning(List<String> jvmArgs, String... args) throws Exception {
        String classPath = String.join(File.pathSeparator, System.getProperty("octet.launcherClasses"),
                System.getProperty("octet.jobClasses"), System.getProperty("octet.jobLib") + File.separator + "*");
        return run(jvmArgs, List.of("-cp", classPath, "com.example.charlm.TransferLearningJob"), args);
    }

    /**
     * DL4J's {@code TransferLearning} makes a new network (embedding frozen, a fine-tuning updater):
     * octet reports and quantizes its state as well, leaves the frozen layer to DL4J's no-op updater,
     * and with everything float32 the fine-tuned parameters are DL4J's own.
     */
    @Test
    void transferLearningFineTunesWithOctetStateAndDl4jsMath() throws Exception {
        Run eight = transferLearning(List.of(agent()), "--steps", "20", "--tune", "30");
        assertEquals(0, eight.exitCode(), eight.output());
        String out = eight.output();
        assertEquals(2, eight.count("octet: optimizer state of MultiLayerUpdater"), "the network and the fine-tuned one: " + out);
        String tuned = out.substring(out.lastIndexOf("octet: optimizer state of MultiLayerUpdater"));
        assertTrue(Pattern.compile("0_W\\s+\\[96, 32]\\s+3,072\\s+NoOp\\s+DL4J's own\\s+0\\s+0").matcher(tuned).find(), out);
        assertTrue(Pattern.compile("1_W\\s+\\[32, 256]\\s+8,192\\s+Adam\\s+8-bit").matcher(tuned).find(), out);
        assertFalse(out.contains("WARNING"), out);
        List<Double> tuneLosses = new ArrayList<>();
        Matcher m = Pattern.compile("^tune step \\d+ loss ([0-9.]+)$", Pattern.MULTILINE).matcher(out);
        while (m.find()) {
            tuneLosses.add(Double.parseDouble(m.group(1)));
        }
        assertEquals(6, tuneLosses.size(), out);
        // Batches are random windows, so the loss is noisy: it goes on from where the first network
        // left it, well below where that one started.
        double started = eight.losses().get(0);
        assertTrue(tuneLosses.stream().allMatch(l -> l < 0.9 * started), "started at " + started + ", fine-tuning " + tuneLosses);

        // Fine-tuning from the same initial parameters with and without the agent (training before it
        // would start the two from parameters a rounding apart, which the steps amplify).
        Path all32 = policy("all-32.yaml", "defaults:\n  bits: 32\n");
        Path withAgent = work.resolve("tuned-agent-32.zip");
        Path without = work.resolve("tuned-plain.zip");
        Run a = transferLearning(List.of(agent("policy=" + all32)), "--steps", "0", "--tune", "20", "--save", withAgent.toString());
        Run b = transferLearning(List.of(), "--steps", "0", "--tune", "20", "--save", without.toString());
        double error = float32ParameterError(a, withAgent, b, without);
        assertTrue(error <= 1e-6, "fine-tuned parameters differ by " + error + " (relative to the largest)");
    }

    /** DL4J loaded by a child class loader (a fat-jar launcher, a Spark executor): octet's helpers go there. */
    @Test
    void worksWhenDl4jLivesInAChildClassLoader() throws Exception {
        String jobClassPath = System.getProperty("octet.jobClasses") + File.pathSeparator + System.getProperty("octet.jobLib")
                + File.separator + "*";
        Run run = run(List.of(agent()), List.of("-cp", ChildLoaderLauncher.classPath(),
                ChildLoaderLauncher.class.getName(), jobClassPath, "com.example.charlm.CharLanguageModel"), "--steps", "20");
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("octet: optimizer state of MultiLayerUpdater"), run.output());
        List<Double> losses = run.losses();
        assertTrue(losses.get(losses.size() - 1) < losses.get(0), run.output());
    }

    /**
     * Settings are checked before the job starts: a misspelled agent argument, a bad value or two agents
     * with different settings stop it with one message; the same agent twice runs once.
     */
    @Test
    void badAgentSettingsStopTheJobWithOneMessageBeforeItStarts() throws Exception {
        Run misspelled = job(List.of(agent("polcy=model.yaml")), List.of(), "--steps", "5");
        assertEquals(2, misspelled.exitCode(), misspelled.output());
        assertTrue(misspelled.output().contains("did you mean 'policy'?"), misspelled.output());
        assertFalse(misspelled.output().contains("step 5 loss"), "the job did not start");
        Run badThreads = job(List.of(agent(), "-Doctet.threads=0"), List.of(), "--steps", "5");
        assertEquals(2, badThreads.exitCode(), badThreads.output());
        assertTrue(badThreads.output().contains("-Doctet.threads is '0'; it takes a whole number from 1 to 1024"),
                badThreads.output());
        Path a = policy("agent-a.yaml", "defaults:\n  bits: 32\n");
        Run twoPolicies = job(List.of(agent(), agent("policy=" + a)), List.of(), "--steps", "5");
        assertEquals(2, twoPolicies.exitCode(), twoPolicies.output());
        assertTrue(twoPolicies.output().contains("the octet agent is given twice with different settings"),
                twoPolicies.output());
        Run twice = job(List.of(agent("policy=" + a), agent("policy=" + a)), List.of(), "--steps", "5");
        assertEquals(0, twice.exitCode(), twice.output());
        assertEquals(1, twice.count("octet: optimizer state of MultiLayerUpdater"), twice.output());
        assertTrue(twice.output().contains("given twice with the same settings; it runs once"), twice.output());
    }

    /**
     * A network that is not float32 (DL4J's own updater tests run in DOUBLE) keeps DL4J's own updater,
     * whole, with one warning: the same results as without the agent (HALF's NaN losses included: DL4J's
     * own), its checkpoint too; with {@code onError: fail} the job stops instead. (DL4J refuses BFLOAT16
     * networks itself.)
     */
    @ParameterizedTest
    @ValueSource(strings = {"DOUBLE", "HALF"})
    void networksThatAreNotFloat32KeepDl4jsOwnUpdater(String type) throws Exception {
        Path withAgent = work.resolve("dtype-" + type + "-agent.zip");
        Path without = work.resolve("dtype-" + type + "-plain.zip");
        String[] args = {"--in", "64", "--classes", "512", "--steps", "3", "--dtype", type};
        Run octet = wideSoftmax(List.of(agent()), withArg(args, "--save", withAgent.toString()));
        Run plain = wideSoftmax(List.of(), withArg(args, "--save", without.toString()));
        assertEquals(0, octet.exitCode(), octet.output());
        assertEquals(1, octet.count("this network's parameters are " + type + "; octet's DL4J updaters work on float32"),
                octet.output());
        assertFalse(octet.output().contains("octet: optimizer state of"), octet.output());
        assertEquals(stepLines(plain), stepLines(octet));
        MultiLayerNetwork a = ModelSerializer.restoreMultiLayerNetwork(withAgent.toFile(), true);
        MultiLayerNetwork b = ModelSerializer.restoreMultiLayerNetwork(without.toFile(), true);
        assertArrayEquals(b.getUpdater().getStateViewArray().data().asDouble(),
                a.getUpdater().getStateViewArray().data().asDouble(), "DL4J's own updater state");
        Path fail = policy("dtype-fail.yaml", "onError: fail\n");
        Run stopped = wideSoftmax(List.of(agent("policy=" + fail)), args);
        assertEquals(1, stopped.exitCode(), stopped.output());
        assertTrue(stopped.output().contains("and the policy says onError: fail"), stopped.output());
    }

    private static String[] withArg(String[] args, String... more) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(more));
        return all.toArray(new String[0]);
    }

    private static List<String> stepLines(Run run) {
        return run.output().lines().filter(l -> l.startsWith("step ") || l.startsWith("max ")).toList();
    }

    /** A rule that matches no parameter of the network (a misspelled name) gets one warning naming it. */
    @Test
    void aRuleThatMatchesNothingIsNamedInOneWarning() throws Exception {
        Path typo = policy("typo.yaml", "rules:\n  - match:\n      name: \"1_RWW\"\n    bits: 32\n"
                + "  - match:\n      name: \"1_*\"\n    bits: 8\n");
        Run run = job(List.of(agent("policy=" + typo)), List.of(), "--steps", "2");
        assertEquals(0, run.exitCode(), run.output());
        assertEquals(1, run.count("rule 1 (line 2: name \"1_RWW\") of the policy " + typo + " matches no parameter of this"
                + " MultiLayerNetwork"), run.output());
        assertFalse(run.output().contains("rule 2 (line 5: name \"1_*\") of the policy"), run.output());
    }

    /**
     * The job packed in one jar without the Maven metadata (maven-shade's common {@code META-INF/maven/**}
     * exclusion, as many Spark jobs' jars), so that DL4J's version is nowhere: octet recognises DL4J by the
     * classes and members it relies on, says so once, and runs as usual.
     */
    @Test
    void anUberJarWithoutMavenMetadataIsRecognisedByTheClassesOctetReliesOn() throws Exception {
        Path jar = work.resolve("job-without-maven-metadata.jar");
        UberJar.write(jar, Path.of(System.getProperty("octet.jobClasses")),
                UberJar.jarsIn(Path.of(System.getProperty("octet.jobLib"))), name -> !name.startsWith("META-INF/maven/"));
        // JavaCPP unpacks the natives per jar name: a cache of the test's own, removed with the jar.
        Path natives = work.resolve("uber-javacpp");
        Run run = runJava(List.of(agent(), "-Dorg.bytedeco.javacpp.cachedir=" + natives),
                List.of("-cp", jar.toString(), "com.example.charlm.CharLanguageModel"), withSmall("--steps", "10"));
        assertEquals(0, run.exitCode(), run.output());
        assertEquals(1, run.count("Deeplearning4j's version is not recorded in this job's jars"), run.output());
        assertTrue(Pattern.compile("1_RW\\s+\\[64, 256]\\s+16,384\\s+Adam\\s+8-bit").matcher(run.output()).find(), run.output());
        assertFalse(run.output().contains("WARNING"), run.output());
        Files.delete(jar);
        try (var files = Files.walk(natives)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    /**
     * The job packed as a Spring Boot executable jar (Spring Boot's own launcher, the job's classes under
     * {@code BOOT-INF/classes}, DL4J's and ND4J's jars nested under {@code BOOT-INF/lib}) and started with
     * {@code java -jar}: DL4J loads in the launcher's class loader from the nested jars; octet reads DL4J's
     * version through them, instruments it there, and trains exactly as on a plain class path.
     */
    @Test
    void worksInASpringBootExecutableJar() throws Exception {
        Path jar = work.resolve("dl4j-job-spring-boot.jar");
        BootJar.write(jar, BootJar.loaderJar(), Path.of(System.getProperty("octet.jobClasses")),
                UberJar.jarsIn(Path.of(System.getProperty("octet.jobLib"))), "com.example.charlm.CharLanguageModel");
        // JavaCPP names its cache folders after the jars, nested or not: the natives already unpacked are used.
        Run boot = runJava(List.of(agent(), "-Doctet.debug=true"), List.of("-jar", jar.toString()), withSmall("--steps", "10"));
        Run plain = job(List.of(agent()), List.of(), "--steps", "10");
        for (Run r : List.of(boot, plain)) {
            assertEquals(0, r.exitCode(), r.output());
        }
        assertTrue(boot.output().contains("[octet] instrumented org.deeplearning4j.nn.updater.BaseMultiLayerUpdater"), boot.output());
        assertTrue(Pattern.compile("1_RW\\s+\\[64, 256]\\s+16,384\\s+Adam\\s+8-bit").matcher(boot.output()).find(), boot.output());
        assertFalse(boot.output().contains("WARNING") || boot.output().contains("is not recorded"), boot.output());
        Matcher checksum = Pattern.compile("parameter checksum (\\S+)").matcher(boot.output());
        assertTrue(checksum.find(), boot.output());
        assertTrue(plain.output().contains("parameter checksum " + checksum.group(1)), "the same parameters as on a plain class path: "
                + plain.output());
        Files.delete(jar);
    }

    private static List<String> withSmall(String... args) {
        List<String> all = new ArrayList<>(SMALL);
        all.addAll(List.of(args));
        return all;
    }

    /**
     * In a program without DL4J or DJL the agent stays dormant: none of its machinery (ByteBuddy, the
     * policy parser, the kernels) is loaded, and a malformed policy is not even read
     * (StartupBenchmark in examples/kernel-benchmarks measures the time and memory).
     */
    @Test
    void theAgentStaysDormantInAProgramWithoutAFramework() throws Exception {
        Path broken = policy("never-read.yaml", "defaults: [\n");
        Run run = runJava(List.of(agent("policy=" + broken), "-verbose:class"),
                List.of("-cp", System.getProperty("octet.launcherClasses"), "com.example.charlm.HelloJob"), List.of());
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("hello"), run.output());
        for (String machinery : List.of("dev.octet.shaded.net.bytebuddy.", "dev.octet.policy.", "dev.octet.kernels.",
                "dev.octet.agent.Activation")) {
            assertFalse(run.output().contains(machinery), machinery + " was loaded: " + run.output());
        }
        assertTrue(run.output().contains("dev.octet.agent.Dormant"), "the dormant transformer is there");
    }

    @Test
    void theSwitchTurnsTheDl4jModuleOff() throws Exception {
        Run run = job(List.of(agent(), "-Doctet.dl4j.enabled=false"), List.of(), "--steps", "5");
        assertEquals(0, run.exitCode(), run.output());
        assertFalse(run.output().contains("octet: optimizer state"), run.output());
    }

    /** Save at step 10, restore, train on: the same losses, parameters and 8-bit state as 20 steps straight. */
    @ParameterizedTest
    @ValueSource(strings = {"false", "true"})
    void checkpointRoundTripIsBitIdenticalToTrainingStraightThrough(String graph) throws Exception {
        // Also: the straight run's params -= update in octet's pass (Dl4jFusedStep) leaves, bit for bit, what
        // DL4J's own step function leaves.
        Path straight = work.resolve("straight-" + graph + ".zip");
        Path half = work.resolve("half-" + graph + ".zip");
        Path resumed = work.resolve("resumed-" + graph + ".zip");
        Run a = job(List.of(agent()), List.of(), "--graph", graph, "--steps", "20", "--save", straight.toString());
        Run b = job(List.of(agent()), List.of(), "--graph", graph, "--steps", "10", "--save", half.toString());
        Run c = job(List.of(agent()), List.of(), "--graph", graph, "--steps", "10", "--load", half.toString(), "--save",
                resumed.toString());
        // The straight run with DL4J's step function doing params -= update instead of octet's pass.
        Path dl4jStep = work.resolve("dl4j-step-" + graph + ".zip");
        Run d = job(List.of(agent(), "-Doctet.dl4j.fusedStep=false"), List.of(), "--graph", graph, "--steps", "20", "--save",
                dl4jStep.toString());
        for (Run r : List.of(a, b, c, d)) {
            assertEquals(0, r.exitCode(), r.output());
        }
        assertEquals(1, a.count(FUSED_STEP), a.output());
        assertEquals(0, d.count(FUSED_STEP), d.output());
        assertArrayEquals(entry(dl4jStep, "coefficients.bin"), entry(straight, "coefficients.bin"), "fused step: parameters");
        assertArrayEquals(entry(dl4jStep, "updaterState.bin"), entry(straight, "updaterState.bin"), "fused step: state");
        if (graph.equals("true")) {
            assertTrue(a.output().contains("octet: optimizer state of ComputationGraphUpdater"), a.output());
            assertTrue(Pattern.compile("lstm_RW\\s+\\[64, 256]\\s+16,384\\s+Adam\\s+8-bit").matcher(a.output()).find(),
                    "parameters are named after the graph's vertices: " + a.output());
        }
        assertEquals(a.losses().subList(2, 4), c.losses(), "losses after the restore");
        assertArrayEquals(entry(straight, "coefficients.bin"), entry(resumed, "coefficients.bin"), "parameters, bit for bit");
        assertArrayEquals(entry(straight, "updaterState.bin"), entry(resumed, "updaterState.bin"), "8-bit state, bit for bit");
    }

    /**
     * DL4J adds weight decay to the update after the updater: its step function then stays DL4J's (not in
     * octet's pass), with the result it has with the fused step turned off; without weight decay the same
     * job's step is octet's.
     */
    @Test
    void weightDecayAfterTheUpdaterKeepsDl4jsOwnStep() throws Exception {
        List<String> small = List.of("--in", "64", "--classes", "4097", "--steps", "10");
        Path decayed = work.resolve("decay.zip");
        Path decayedDl4jStep = work.resolve("decay-dl4j-step.zip");
        Run a = wideSoftmax(List.of(agent()), concat(small, "--weight-decay", "0.01", "--save", decayed.toString()));
        Run b = wideSoftmax(List.of(agent(), "-Doctet.dl4j.fusedStep=false"),
                concat(small, "--weight-decay", "0.01", "--save", decayedDl4jStep.toString()));
        Run c = wideSoftmax(List.of(agent()), small.toArray(String[]::new));
        for (Run r : List.of(a, b, c)) {
            assertEquals(0, r.exitCode(), r.output());
        }
        assertEquals(0, a.count(FUSED_STEP), a.output());
        assertEquals(1, c.count(FUSED_STEP), c.output());
        // (The pass before the updater is left out: weight decay acts after it.)
        assertEquals(1, a.count(EMPTY_REGULARIZATION), a.output());
        assertEquals(0, b.count(EMPTY_REGULARIZATION), b.output());
        assertArrayEquals(entry(decayedDl4jStep, "coefficients.bin"), entry(decayed, "coefficients.bin"), "parameters");
        assertArrayEquals(entry(decayedDl4jStep, "updaterState.bin"), entry(decayed, "updaterState.bin"), "state");
    }

    /**
     * DL4J's division of the gradient by the minibatch in octet's pass: with a batch of 24 (its division is
     * not a product with 1/24), the same parameters and state, byte for byte, as with DL4J's own division and
     * step ({@code fusedStep=false}). Where something reads the divided gradient before the updater (an L2
     * term, gradient clipping), DL4J divides as before and the step alone is octet's, again to the byte. DL4J's
     * regularization passes without a term are left out (with L2, the one after the updater), changing no byte either.
     */
    @Test
    void theMinibatchDivisionInOctetsPassLeavesDl4jsBytes() throws Exception {
        List<String> small = List.of("--in", "64", "--classes", "4097", "--steps", "8", "--batch", "24");
        for (List<String> extra : List.of(List.<String>of(), List.of("--l2", "0.001"), List.of("--clip", "0.05"))) {
            String name = extra.isEmpty() ? "plain" : extra.get(0).substring(2);
            Path fused = work.resolve("division-" + name + ".zip");
            Path dl4jsOwn = work.resolve("division-" + name + "-dl4j.zip");
            List<String> args = new ArrayList<>(small);
            args.addAll(extra);
            Run a = wideSoftmax(List.of(agent()), concat(args, "--save", fused.toString()));
            Run b = wideSoftmax(List.of(agent(), "-Doctet.dl4j.fusedStep=false"), concat(args, "--save", dl4jsOwn.toString()));
            assertEquals(0, a.exitCode(), a.output());
            assertEquals(0, b.exitCode(), b.output());
            assertEquals(1, a.count(FUSED_STEP), a.output());
            assertEquals(extra.isEmpty() ? 1 : 0, a.count(FUSED_DIVISION), name + ": " + a.output());
            assertEquals(0, b.count(FUSED_DIVISION), b.output());
            // (With L2 the pass before the updater stays DL4J's, the one after it is left out.)
            assertEquals(1, a.count(EMPTY_REGULARIZATION), name + ": " + a.output());
            assertEquals(0, b.count(EMPTY_REGULARIZATION), b.output());
            assertArrayEquals(entry(dl4jsOwn, "coefficients.bin"), entry(fused, "coefficients.bin"), name + ": parameters");
            assertArrayEquals(entry(dl4jsOwn, "updaterState.bin"), entry(fused, "updaterState.bin"), name + ": state");
            List<String> steps = a.output().lines().filter(l -> l.startsWith("step ")).toList();
            assertEquals(8, steps.size(), a.output());
            assertEquals(b.output().lines().filter(l -> l.startsWith("step ")).toList(), steps, name + ": losses");
        }
    }

    /**
     * The SIMD codec (the Vector API module on the command line) trains a DL4J job to the same bytes as the scalar
     * codec: parameters, 8-bit state and losses, through the fused step, the division by the minibatch and the floor.
     */
    @Test
    void theSimdCodecTrainsBitForBitAsTheScalarCodec() throws Exception {
        List<String> args = List.of("--in", "64", "--classes", "4097", "--steps", "8", "--batch", "24");
        Path scalarFile = work.resolve("codec-scalar.zip");
        Path simdFile = work.resolve("codec-simd.zip");
        Run scalar = wideSoftmax(List.of(agent(), "-Doctet.cpu.codec=scalar"), concat(args, "--save", scalarFile.toString()));
        Run simd = wideSoftmax(List.of(agent(), "--add-modules", "jdk.incubator.vector", "-Doctet.cpu.codec=vector"),
                concat(args, "--save", simdFile.toString()));
        assertEquals(0, scalar.exitCode(), scalar.output());
        assertEquals(0, simd.exitCode(), simd.output());
        assertTrue(scalar.output().contains("CPU codec: scalar (-Doctet.cpu.codec=scalar)"), scalar.output());
        assertTrue(simd.output().contains("CPU codec: vector (jdk.incubator.vector"), simd.output());
        assertEquals(1, simd.count(FUSED_STEP), simd.output());
        assertEquals(1, simd.count(FUSED_DIVISION), simd.output());
        assertArrayEquals(entry(scalarFile, "coefficients.bin"), entry(simdFile, "coefficients.bin"), "parameters");
        assertArrayEquals(entry(scalarFile, "updaterState.bin"), entry(simdFile, "updaterState.bin"), "8-bit state");
        List<String> steps = simd.output().lines().filter(l -> l.startsWith("step ")).toList();
        assertEquals(8, steps.size(), simd.output());
        assertEquals(scalar.output().lines().filter(l -> l.startsWith("step ")).toList(), steps, "losses");
    }

    private static String[] concat(List<String> first, String... more) {
        List<String> all = new ArrayList<>(first);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    /**
     * DL4J's CheckpointListener saves through ModelSerializer: its checkpoints hold octet's 8-bit state,
     * and restore it exactly (saved again at once, the file's parameters and state are unchanged).
     * (A listener checkpoint is taken before DL4J counts the iteration, so it is not compared with a
     * straight run: that holds without octet too.)
     */
    @Test
    void checkpointListenerCheckpointsRestoreExactly() throws Exception {
        Path folder = Files.createDirectories(work.resolve("listener"));
        Run a = job(List.of(agent()), List.of(), "--steps", "15", "--checkpoints", folder.toString());
        assertEquals(0, a.exitCode(), a.output());
        Path checkpoint = folder.resolve("checkpoint_0_MultiLayerNetwork.zip");
        assertTrue(Files.exists(checkpoint), "files: " + List.of(folder.toFile().list()));
        Path again = work.resolve("listener-saved-again.zip");
        Run b = job(List.of(agent()), List.of(), "--steps", "0", "--load", checkpoint.toString(), "--save", again.toString());
        assertEquals(0, b.exitCode(), b.output());
        assertArrayEquals(entry(checkpoint, "coefficients.bin"), entry(again, "coefficients.bin"), "parameters, bit for bit");
        assertArrayEquals(entry(checkpoint, "updaterState.bin"), entry(again, "updaterState.bin"), "8-bit state, bit for bit");
        Run c = job(List.of(), List.of(), "--steps", "5", "--load", checkpoint.toString());
        assertTrue(c.output().contains("octet: this checkpoint holds 8-bit optimizer state"), c.output());
    }

    @Test
    void an8BitCheckpointWithoutTheAgentFailsClearlyAndTheConverterMakesItPlain() throws Exception {
        Path half = work.resolve("to-convert.zip");
        Path plain = work.resolve("converted.zip");
        assertEquals(0, job(List.of(agent()), List.of(), "--steps", "10", "--save", half.toString()).exitCode());
        Run without = job(List.of(), List.of(), "--steps", "5", "--load", half.toString());
        assertTrue(without.exitCode() != 0, without.output());
        assertTrue(without.output().contains("octet: this checkpoint holds 8-bit optimizer state. Load it with the octet agent"),
                without.output());

        Process convert = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                System.getProperty("octet.agentJar"), "convert", half.toString(), plain.toString()).redirectErrorStream(true).start();
        String said = new String(convert.getInputStream().readAllBytes());
        assertEquals(0, convert.waitFor(), said);
        assertTrue(said.contains("a plain DL4J model file with float32 optimizer state"), said);

        Run plainRun = job(List.of(), List.of(), "--steps", "10", "--load", plain.toString());
        Run octetRun = job(List.of(agent()), List.of(), "--steps", "10", "--load", half.toString());
        assertEquals(0, plainRun.exitCode(), plainRun.output());
        assertEquals(0, octetRun.exitCode(), octetRun.output());
        for (int i = 0; i < 2; i++) {
            double p = plainRun.losses().get(i);
            double o = octetRun.losses().get(i);
            assertTrue(Math.abs(p - o) <= 1e-3 * Math.abs(o), "DL4J from the converted file tracks octet: " + p + " vs " + o);
        }
    }

    @Test
    void a32BitCheckpointResumesUnderTheAgentConvertedTo8Bit() throws Exception {
        Path plain = work.resolve("plain-half.zip");
        assertEquals(0, job(List.of(), List.of(), "--steps", "10", "--save", plain.toString()).exitCode());
        Run resumed = job(List.of(agent()), List.of(), "--steps", "10", "--load", plain.toString());
        Run straight = job(List.of(), List.of(), "--steps", "20");
        assertEquals(0, resumed.exitCode(), resumed.output());
        assertTrue(resumed.output().contains("8-bit, block 256"), resumed.output());
        double octet = resumed.losses().get(1);
        double dl4j = straight.losses().get(3);
        assertTrue(Math.abs(octet - dl4j) <= 1e-3 * dl4j, "resumed in 8-bit " + octet + " vs 32-bit straight " + dl4j);
    }

    /** The DL4J version the job runs (the tests share its class path). */
    private static String dl4jVersion() throws IOException {
        var props = new java.util.Properties();
        try (var in = Dl4jAgentIT.class.getResourceAsStream("/META-INF/maven/org.deeplearning4j/deeplearning4j-nn/pom.properties")) {
            props.load(in);
        }
        return props.getProperty("version");
    }

    private static byte[] entry(Path zip, String name) throws IOException {
        try (ZipFile z = new ZipFile(zip.toFile())) {
            return z.getInputStream(z.getEntry(name)).readAllBytes();
        }
    }

    /** A class-path folder, first in line, whose DL4J version marker says {@code version}. */
    private static Path fakeDl4jVersion(String version) throws IOException {
        Path dir = work.resolve("dl4j-" + version);
        Path props = dir.resolve("META-INF/maven/org.deeplearning4j/deeplearning4j-nn/pom.properties");
        Files.createDirectories(props.getParent());
        Files.writeString(props, "groupId=org.deeplearning4j\nartifactId=deeplearning4j-nn\nversion=" + version + "\n");
        return dir;
    }
}
