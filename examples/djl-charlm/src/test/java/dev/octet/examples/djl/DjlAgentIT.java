package dev.octet.examples.djl;

import static dev.octet.examples.it.ChildJvm.agent;
import static dev.octet.examples.it.ChildJvm.policy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.octet.examples.it.BootJar;
import dev.octet.examples.it.ChildJvm;
import dev.octet.examples.it.ChildLoaderLauncher;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The DJL example job, unchanged, in a child JVM started with {@code -javaagent:octet-agent.jar}, exactly
 * as a user starts it: real DJL 0.35.1, PyTorch engine on CPU, natives from the Maven Central jars,
 * {@code -Dai.djl.offline=true}. Runs that several checks read are made once and shared.
 */
class DjlAgentIT {

    private static final Pattern LOSS = Pattern.compile("^step (\\d+) loss ([0-9.]+) last ([0-9.]+) bits ([0-9a-f]{8})$",
            Pattern.MULTILINE);
    private static final Pattern TOTAL = Pattern.compile("total optimizer state: ([0-9,]+) bytes -> ([0-9,]+) bytes");
    private static final String MAIN = "com.example.djlcharlm.DjlCharLanguageModel";

    /** A small model (359,008 parameters) so that each run takes seconds. */
    private static final List<String> SMALL = List.of("--hidden", "256", "--every", "10");

    private static final Map<String, Run> SHARED = new ConcurrentHashMap<>();
    private static Path work;

    @BeforeAll
    static void workDir() throws IOException {
        work = ChildJvm.workDir();
    }

    record Run(int exitCode, String output) {
        static Run of(ChildJvm.Result result) {
            return new Run(result.exitCode(), result.output());
        }

        List<String[]> lines() {
            List<String[]> out = new ArrayList<>();
            Matcher m = LOSS.matcher(output);
            while (m.find()) {
                out.add(new String[] {m.group(1), m.group(2), m.group(3), m.group(4)});
            }
            return out;
        }

        /** The mean batch loss of each window. */
        List<Double> losses() {
            return lines().stream().map(l -> Double.parseDouble(l[1])).toList();
        }

        /** Each line's step and last batch loss, to the bit. */
        List<String> exactLosses() {
            return lines().stream().map(l -> l[0] + ":" + l[3]).toList();
        }

        int count(String text) {
            return output.split(Pattern.quote(text), -1).length - 1;
        }
    }

    /** Runs the job; {@code jvmArgs} go before the main class (the agent among them), {@code args} after. */
    static Run job(List<String> jvmArgs, List<String> classPathPrefix, String... args) throws Exception {
        return launch(jvmArgs, classPathPrefix, MAIN, args);
    }

    static Run launch(List<String> jvmArgs, List<String> classPathPrefix, String main, String... args) throws Exception {
        List<String> classPath = new ArrayList<>(classPathPrefix);
        classPath.add(jobClassPath());
        return start(jvmArgs, classPath, main, args);
    }

    static String jobClassPath() {
        return System.getProperty("octet.jobClasses") + File.pathSeparator + System.getProperty("octet.jobLib") + File.separator + "*";
    }

    static Run start(List<String> jvmArgs, List<String> classPath, String main, String... args) throws Exception {
        return start(Path.of(System.getProperty("java.home")), jvmArgs, classPath, main, args);
    }

    static Run start(Path javaHome, List<String> jvmArgs, List<String> classPath, String main, String... args) throws Exception {
        String cache = System.getProperty("octet.djlCache", "target/djl-cache");
        List<String> command = new ArrayList<>();
        // Offline: DJL would otherwise try to download natives and send telemetry. A fixed cache: natives unpack once.
        command.addAll(List.of("-Dai.djl.offline=true", "-DDJL_CACHE_DIR=" + cache, "-DENGINE_CACHE_DIR=" + cache,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-Dorg.slf4j.simpleLogger.log.octet=info"));
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", String.join(File.pathSeparator, classPath), main));
        // The example gets the small model's options first; through a launcher, they follow its main class.
        List<String> rest = List.of(args);
        int at = main.equals(MAIN) ? 0 : rest.indexOf(MAIN) + 1;
        if (main.equals(MAIN) || at > 0) {
            command.addAll(rest.subList(0, at));
            command.addAll(SMALL);
            command.addAll(rest.subList(at, rest.size()));
        } else {
            command.addAll(rest);
        }
        return Run.of(ChildJvm.java(javaHome, List.of(), command, List.of()));
    }

    /** A run several tests read, made once. */
    static Run shared(String key, List<String> jvmArgs, String... args) {
        return SHARED.computeIfAbsent(key, k -> {
            try {
                return job(jvmArgs, List.of(), args);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    static Path all32() throws IOException {
        return policy("all-32.yaml", "defaults:\n  bits: 32\n");
    }

    /** 300 steps of Adam with the default policy (8-bit) and with everything float32, the same batches. */
    static Run adam8() {
        return shared("adam-8", List.of(agent()), "--steps", "300", "--every", "25");
    }

    static Run adam32() throws IOException {
        return shared("adam-32", List.of(agent("policy=" + all32())), "--steps", "300", "--every", "25");
    }

    @Test
    void reportsEachParameterByItsStableNameAndTheStateSaved() {
        Run run = adam8();
        assertEquals(0, run.exitCode(), run.output());
        String out = run.output();
        assertTrue(out.contains("octet: optimizer state of DJL Adam for model charlm (policy <defaults>)"), out);
        assertTrue(Pattern.compile("03Linear_weight\\s+\\[256, 1024]\\s+262,144\\s+Adam\\s+8-bit, block 256\\s+2,097,152\\s+532,480\\s+"
                + "defaults -> 8-bit").matcher(out).find(), out);
        assertTrue(Pattern.compile("03Linear_bias\\s+\\[256]\\s+256\\s+Adam\\s+float32\\s+2,048\\s+2,048\\s+"
                + "defaults: 256 elements < minQuantizedSize 4,096").matcher(out).find(), out);
        assertTrue(out.contains("01TrainableWordEmbedding_embedding"), out);
        assertEquals(1, run.count("octet: optimizer state of"), "one report");
        Matcher total = TOTAL.matcher(out);
        assertTrue(total.find(), out);
        long before = Long.parseLong(total.group(1).replace(",", ""));
        long after = Long.parseLong(total.group(2).replace(",", ""));
        assertEquals(8L * 359_008, before, "DJL's Adam keeps two float32 statistics per parameter");
        // Quantized: 2 * (1 + 4/256) bytes per element; the three biases (608 elements) float32.
        assertEquals(2L * (358_400 + 4 * (24 + 1024 + 256 + 96)) + 8L * 608, after);
        assertFalse(out.contains("WARNING"), out);
    }

    /** With 8-bit state the loss falls and tracks float32 state over 300 steps of the same batches. */
    @Test
    void eightBitAdamTracksFloat32Over300Steps() throws Exception {
        Run eight = adam8();
        Run full = adam32();
        assertEquals(0, full.exitCode(), full.output());
        List<Double> a = eight.losses();
        List<Double> b = full.losses();
        assertEquals(12, a.size(), eight.output());
        assertEquals(12, b.size(), full.output());
        StringBuilder table = new StringBuilder("step | float32 state | 8-bit state | difference\n");
        double gapLast = 0;
        for (int i = 0; i < 12; i++) {
            double diff = (a.get(i) - b.get(i)) / b.get(i);
            table.append(String.format(Locale.ROOT, "%d | %.4f | %.4f | %+.2f%%%n", 25 * (i + 1), b.get(i), a.get(i), 100 * diff));
            if (i >= 8) {
                gapLast += diff / 4;
            }
        }
        table.append(String.format(Locale.ROOT, "mean relative gap over steps 201-300: %+.2f%%%n", 100 * gapLast));
        Files.writeString(work.resolve("adam-8-vs-32.txt"), table);
        System.out.print(table);
        assertTrue(a.get(11) < 0.9 * a.get(0), "8-bit loss went from " + a.get(0) + " to " + a.get(11));
        assertTrue(Math.abs(gapLast) < 0.03, "8-bit vs float32 loss over steps 201-300: " + table);
    }

    /** Every stateful DJL optimizer trains with 8-bit state, including the four DJL's PyTorch engine cannot run. */
    @ParameterizedTest
    @ValueSource(strings = {"adamw", "sgd", "nag", "rmsprop", "rmsprop-centered", "adagrad", "adadelta"})
    void everyOptimizerTrainsWith8BitState(String optimizer) throws Exception {
        Run run = job(List.of(agent()), List.of(), "--optimizer", optimizer, "--steps", "120", "--every", "20");
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(Pattern.compile("03Linear_weight\\s+\\[256, 1024]\\s+262,144\\s+\\S+( \\(centered\\))?\\s+8-bit, block 256")
                .matcher(run.output()).find(), run.output());
        List<Double> losses = run.losses();
        assertEquals(6, losses.size(), run.output());
        assertTrue(losses.get(5) < 0.9 * losses.get(0), optimizer + ": loss went from " + losses.get(0) + " to " + losses.get(5));
    }

    /** Nag, RmsProp, Adagrad and Adadelta throw in DJL's PyTorch engine; under octet they train (see above). */
    @ParameterizedTest
    @ValueSource(strings = {"nag", "rmsprop", "adagrad", "adadelta"})
    void djlAloneCannotRunTheseOptimizers(String optimizer) throws Exception {
        Run plain = job(List.of(), List.of(), "--optimizer", optimizer, "--steps", "2");
        assertNotEquals(0, plain.exitCode(), plain.output());
        assertTrue(plain.output().contains("UnsupportedOperationException"), plain.output());
    }

    /**
     * With every parameter float32, octet's path gives DJL's own native PyTorch update: parameters after
     * steps 5, 10, 15 and 20 within 1e-6 of the largest parameter.
     */
    @ParameterizedTest
    @ValueSource(strings = {"adam", "adamw", "sgd"})
    void everything32BitMatchesDjlsNativeUpdateStepForStep(String optimizer) throws Exception {
        Path octet = work.resolve(optimizer + "-octet-32.bin");
        Path djl = work.resolve(optimizer + "-djl.bin");
        Run a = job(List.of(agent("policy=" + all32())), List.of(), "--optimizer", optimizer, "--steps", "20",
                "--dump", octet.toString(), "--dump-every", "5");
        Run b = job(List.of(), List.of(), "--optimizer", optimizer, "--steps", "20", "--dump", djl.toString(), "--dump-every", "5");
        assertEquals(0, a.exitCode(), a.output());
        assertEquals(0, b.exitCode(), b.output());
        assertTrue(a.output().contains("float32"), "octet's path ran: " + a.output());
        for (int step = 5; step <= 20; step += 5) {
            double error = relativeError(Path.of(octet + "-step" + step), Path.of(djl + "-step" + step));
            System.out.printf(Locale.ROOT, "%s step %d: octet float32 vs DJL native, largest difference %.3e of the largest parameter%n",
                    optimizer, step, error);
            assertTrue(error <= 1e-6, optimizer + ": parameters after step " + step + " differ by " + error);
        }
    }

    /** Save at step 10, load, train 10 more: the same losses, parameters and octet state as 20 steps straight. */
    @ParameterizedTest
    @ValueSource(strings = {"adam", "rmsprop-centered"})
    void saveLoadResumeIsBitIdenticalToTrainingStraightThrough(String optimizer) throws Exception {
        Path straight = clean("straight-" + optimizer);
        Path half = clean("half-" + optimizer);
        Path resumed = clean("resumed-" + optimizer);
        Run a = job(List.of(agent()), List.of(), "--optimizer", optimizer, "--steps", "20", "--every", "5", "--save", straight.toString());
        Run b = job(List.of(agent()), List.of(), "--optimizer", optimizer, "--steps", "10", "--every", "5", "--save", half.toString());
        Run c = job(List.of(agent()), List.of(), "--optimizer", optimizer, "--steps", "10", "--every", "5", "--load", half.toString(),
                "--save", resumed.toString());
        for (Run r : List.of(a, b, c)) {
            assertEquals(0, r.exitCode(), r.output());
        }
        assertTrue(c.output().contains("[octet] restored the optimizer state of charlm from " + half.resolve("charlm-0000.params.octet")),
                c.output());
        assertEquals(a.exactLosses().subList(2, 4), c.exactLosses(), "losses after the restore, to the bit");
        assertArrayEquals(Files.readAllBytes(straight.resolve("charlm-0000.params")), Files.readAllBytes(resumed.resolve("charlm-0000.params")),
                "parameters, bit for bit");
        byte[] state = Files.readAllBytes(straight.resolve("charlm-0000.params.octet"));
        assertArrayEquals(state, Files.readAllBytes(resumed.resolve("charlm-0000.params.octet")), "octet's state, bit for bit");
        if (optimizer.equals("adam")) {
            // 8-bit Adam state of 358,400 quantized and 608 float32 elements, plus the header.
            assertTrue(state.length > 2L * (358_400 + 4 * 1400) + 8L * 608 && state.length < 2L * (358_400 + 4 * 1400) + 8L * 608 + 2000,
                    "state file bytes " + state.length);
        }
    }

    /** Missing, corrupt or stale (another optimizer, another model) state: one clear warning, fresh state, training goes on. */
    @Test
    void aMissingCorruptOrStaleStateFileWarnsOnceAndStartsFresh() throws Exception {
        Path half = clean("bad-half");
        assertEquals(0, job(List.of(agent()), List.of(), "--steps", "5", "--save", half.toString()).exitCode());
        Path stateFile = half.resolve("charlm-0000.params.octet");
        byte[] good = Files.readAllBytes(stateFile);
        Path smaller = clean("bad-smaller");
        assertEquals(0, job(List.of(agent()), List.of(), "--hidden", "128", "--steps", "5", "--save", smaller.toString()).exitCode());
        byte[] otherModel = Files.readAllBytes(smaller.resolve("charlm-0000.params.octet"));

        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("missing", "there is no octet state file " + stateFile);
        cases.put("corrupt", "cannot read " + stateFile + " (octet's optimizer state does not match its checksum; the file is damaged)");
        cases.put("other optimizer", stateFile + " holds Adam state, but the job now trains with RmsProp");
        cases.put("other model", stateFile + " does not match the model: parameter 03Linear_weight [128, 1024] is [256, 1024] now (stale)");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Files.write(stateFile, good);
            if (c.getKey().equals("missing")) {
                Files.delete(stateFile);
            } else if (c.getKey().equals("other model")) {
                Files.write(stateFile, otherModel);
            } else if (c.getKey().equals("corrupt")) {
                byte[] bad = good.clone();
                bad[bad.length / 2] ^= 0x10;
                Files.write(stateFile, bad);
            }
            String optimizer = c.getKey().equals("other optimizer") ? "rmsprop" : "adam";
            Run run = job(List.of(agent()), List.of(), "--optimizer", optimizer, "--steps", "10", "--load", half.toString());
            assertEquals(0, run.exitCode(), c.getKey() + ": " + run.output());
            assertTrue(run.output().contains("[octet] WARNING: the model charlm was loaded, but its optimizer state cannot be restored: "
                    + c.getValue() + ". Training goes on with fresh optimizer state"), c.getKey() + ": " + run.output());
            assertEquals(1, run.count("cannot be restored"), "warned once");
            assertEquals(1, run.losses().size(), run.output());
            assertTrue(Double.isFinite(run.losses().get(0)) && run.losses().get(0) < 4.6, run.output());
        }
    }

    @Test
    void unsupportedDjlVersionWarnsOnceAndRunsUntouched() throws Exception {
        Run run = job(List.of(agent()), List.of(fakeDjlVersion("0.30.0").toString()), "--steps", "10");
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("[octet] WARNING: DJL 0.30.0 is not a version octet supports (0.35.1)"), run.output());
        assertEquals(1, run.count("is not a version octet supports"), "warned once");
        assertFalse(run.output().contains("octet: optimizer state"), "nothing quantized");
        // Untouched: DJL's own Adam, the same losses as without the agent.
        Run plain = job(List.of(), List.of(), "--steps", "10");
        assertEquals(plain.exactLosses(), run.exactLosses());
    }

    /**
     * DJL's api jar with {@code ai/djl/engine/api.properties} filtered out (a resource filter of a repacked
     * jar): octet reads 0.35.1 from the jar's own manifest, as DJL itself does; without that manifest too,
     * it recognises DJL by the classes and members it relies on. Either way it says how, once, and trains
     * exactly as with DJL's jars untouched.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void djlWithoutItsVersionFileIsRecognisedAndSaysHow(boolean keepManifest) throws Exception {
        Path jar = work.resolve("djl-api-without-version-" + keepManifest + ".jar");
        List<String> classPath = new ArrayList<>(List.of(System.getProperty("octet.jobClasses")));
        try (var jars = Files.list(Path.of(System.getProperty("octet.jobLib")))) {
            for (Path j : jars.filter(j -> j.toString().endsWith(".jar")).sorted().toList()) {
                if (j.getFileName().toString().startsWith("api-")) {
                    copyJarWithout(j, jar, name -> name.equals("ai/djl/engine/api.properties")
                            || (!keepManifest && name.equals("META-INF/MANIFEST.MF")));
                    classPath.add(jar.toString());
                } else {
                    classPath.add(j.toString());
                }
            }
        }
        Run run = start(List.of(agent()), classPath, MAIN, "--steps", "10", "--every", "5");
        Run untouched = shared("adam-8-10-steps", List.of(agent()), "--steps", "10", "--every", "5");
        assertEquals(0, run.exitCode(), run.output());
        String note = keepManifest
                ? "[octet] DJL's ai/djl/engine/api.properties is not in this job's jars; its version, 0.35.1, is read from the"
                        + " manifest of its jar (ai.djl.api)"
                : "[octet] DJL's version is not recorded in this job's jars (ai/djl/engine/api.properties is missing: a jar"
                        + " repacked without it, such as a shaded one); every class and member octet relies on is there, so"
                        + " octet runs as for 0.35.1";
        assertEquals(1, run.count(note), run.output());
        assertTrue(run.output().contains("octet: optimizer state of DJL Adam for model charlm"), run.output());
        assertFalse(run.output().contains("WARNING"), run.output());
        assertEquals(2, untouched.exactLosses().size(), untouched.output());
        assertEquals(untouched.exactLosses(), run.exactLosses(), "the same training as with DJL's jars untouched");
        Files.delete(jar);
    }

    /** Copies a jar, leaving out the entries {@code drop} names. */
    private static void copyJarWithout(Path from, Path to, java.util.function.Predicate<String> drop) throws IOException {
        try (java.util.zip.ZipFile in = new java.util.zip.ZipFile(from.toFile());
                java.util.zip.ZipOutputStream out = new java.util.zip.ZipOutputStream(Files.newOutputStream(to))) {
            for (java.util.zip.ZipEntry e : java.util.Collections.list(in.entries())) {
                if (!drop.test(e.getName())) {
                    out.putNextEntry(new java.util.zip.ZipEntry(e.getName()));
                    try (var data = in.getInputStream(e)) {
                        data.transferTo(out);
                    }
                    out.closeEntry();
                }
            }
        }
    }

    /**
     * The JDK where octet's SIMD codec is fastest (README): the agent instruments DJL there (ByteBuddy
     * before 1.17 refused Java 25's class files, and octet left the job 32-bit), and the SIMD codec trains
     * bit for bit as the scalar one on this build's JDK. Skipped, saying so, where no newer JDK is installed.
     */
    @Test
    void onTheNewestJdkWithTheSimdCodecTrainsBitForBitAsTheScalarCodec() throws Exception {
        Path jdk = ChildJvm.newerJdk().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(jdk != null,
                "no newer JDK at -Doctet.it.newerJdk=" + System.getProperty("octet.it.newerJdk"));
        // (-Doctet.cpu.codec=vector: the SIMD codec from the first step; by default a job's first seconds run the scalar one.)
        Run run = start(jdk, List.of(agent(), "--add-modules", "jdk.incubator.vector", "-Doctet.cpu.codec=vector"),
                List.of(jobClassPath()), MAIN,
                "--steps", "10", "--every", "5");
        Run scalar = shared("adam-8-10-steps", List.of(agent()), "--steps", "10", "--every", "5");
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("octet: optimizer state of DJL Adam for model charlm"), run.output());
        assertTrue(run.output().contains("CPU codec: vector (jdk.incubator.vector"), run.output());
        assertTrue(run.output().contains("from the first step"), run.output());
        assertFalse(run.output().contains("[octet] WARNING"), run.output());
        assertTrue(scalar.output().contains("CPU codec: scalar"), scalar.output());
        assertEquals(2, scalar.exactLosses().size(), scalar.output());
        assertEquals(scalar.exactLosses(), run.exactLosses(), "the same losses, to the bit, as the scalar codec's");
    }

    @Test
    void onErrorFailStopsAnUnsupportedVersionAtStart() throws Exception {
        Path failing = policy("fail.yaml", "onError: fail\n");
        Run run = job(List.of(agent("policy=" + failing)), List.of(fakeDjlVersion("0.30.0").toString()), "--steps", "10");
        // Stopped by octet's exception from the first use of a DJL class octet would have instrumented.
        assertEquals(1, run.exitCode(), run.output());
        assertTrue(run.output().contains("dev.octet.adapters.core.OctetFailure"), run.output());
        assertTrue(run.output().contains("DJL 0.30.0 is not a version octet supports (0.35.1); this job's optimizer state stays 32-bit,"
                + " and the policy says onError: fail"), run.output());
        assertTrue(run.losses().isEmpty(), "no training step ran");
    }

    /** DJL loaded by a child class loader (a fat-jar launcher): octet's helpers are defined there and it works the same. */
    @Test
    void worksWhenDjlLivesInAChildClassLoader() throws Exception {
        Run run = start(List.of(agent()), List.of(ChildLoaderLauncher.classPath()), ChildLoaderLauncher.class.getName(),
                jobClassPath(), MAIN, "--steps", "40", "--every", "20");
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("octet: optimizer state of DJL Adam for model charlm"), run.output());
        List<Double> losses = run.losses();
        assertEquals(2, losses.size(), run.output());
        assertTrue(losses.get(1) < losses.get(0), run.output());
    }

    /**
     * The job packed as a Spring Boot executable jar (Spring Boot's own launcher, the job's classes under
     * {@code BOOT-INF/classes}, DJL's jars nested under {@code BOOT-INF/lib}) and started with {@code java -jar}:
     * DJL loads from the nested jars in the launcher's class loader; octet recognises it there (its version
     * file read through the nested jar), defines its helpers there, and trains exactly as on a plain class path.
     */
    @Test
    void worksInASpringBootExecutableJar() throws Exception {
        Path jar = work.resolve("djl-job-spring-boot.jar");
        List<Path> jars;
        try (var files = Files.list(Path.of(System.getProperty("octet.jobLib")))) {
            jars = files.filter(j -> j.toString().endsWith(".jar")).sorted().toList();
        }
        BootJar.write(jar, BootJar.loaderJar(), Path.of(System.getProperty("octet.jobClasses")), jars, MAIN);
        List<String> args = List.of("--hidden", "256", "--steps", "40", "--every", "20");
        Run boot = start(List.of(agent(), "-Doctet.debug=true"), List.of(jar.toString()), BootJar.LAUNCHER, args.toArray(new String[0]));
        Run plain = job(List.of(agent()), List.of(), "--steps", "40", "--every", "20");
        Run djl = start(List.of(), List.of(jar.toString()), BootJar.LAUNCHER, args.toArray(new String[0]));
        for (Run r : List.of(boot, plain, djl)) {
            assertEquals(0, r.exitCode(), r.output());
        }
        assertTrue(boot.output().contains("[octet] instrumented ai.djl.training.LocalParameterServer"), boot.output());
        assertTrue(boot.output().contains("octet: optimizer state of DJL Adam for model charlm"), boot.output());
        assertFalse(boot.output().contains("WARNING"), boot.output());
        assertFalse(boot.output().contains("is not recorded") || boot.output().contains("manifest"), "the version file was read: "
                + boot.output());
        assertEquals(2, boot.exactLosses().size(), boot.output());
        assertEquals(plain.exactLosses(), boot.exactLosses(), "the same training as on a plain class path, to the bit");
        assertNotEquals(djl.exactLosses(), boot.exactLosses(), "octet's 8-bit run, not DJL's own");
        Files.delete(jar);
    }

    /** A state file saved with 8-bit state restores into a job whose policy now keeps everything float32 (converted). */
    @Test
    void stateSavedIn8BitRestoresIntoAFloat32Policy() throws Exception {
        Path saved = clean("convert-half");
        assertEquals(0, job(List.of(agent()), List.of(), "--steps", "10", "--save", saved.toString()).exitCode());
        Run eight = job(List.of(agent()), List.of(), "--steps", "10", "--load", saved.toString());
        Run full = job(List.of(agent("policy=" + all32())), List.of(), "--steps", "10", "--load", saved.toString());
        for (Run r : List.of(eight, full)) {
            assertEquals(0, r.exitCode(), r.output());
            assertTrue(r.output().contains("[octet] restored the optimizer state of charlm"), r.output());
            assertFalse(r.output().contains("WARNING"), r.output());
        }
        assertTrue(Pattern.compile("03Linear_weight\\s+\\[256, 1024]\\s+262,144\\s+Adam\\s+float32").matcher(full.output()).find(),
                full.output());
        double a = eight.losses().get(0);
        double b = full.losses().get(0);
        assertTrue(Math.abs(a - b) <= 0.01 * a, "resumed with 8-bit state " + a + ", with the same state as float32 " + b);
    }

    /** A rule that matches no parameter of the model (a misspelled name) gets one warning naming it. */
    @Test
    void aRuleThatMatchesNothingIsNamedInOneWarning() throws Exception {
        Path typo = policy("typo.yaml", "rules:\n  - match:\n      name: \"03Linear_wieght\"\n    bits: 32\n");
        Run run = job(List.of(agent("policy=" + typo)), List.of(), "--steps", "2");
        assertEquals(0, run.exitCode(), run.output());
        assertEquals(1, run.count("rule 1 (line 2: name \"03Linear_wieght\") of the policy " + typo
                + " matches no parameter of the model charlm"), run.output());
    }

    @Test
    void theSwitchTurnsTheDjlModuleOff() throws Exception {
        Run run = job(List.of(agent(), "-Doctet.djl.enabled=false"), List.of(), "--steps", "10");
        assertEquals(0, run.exitCode(), run.output());
        assertFalse(run.output().contains("octet: optimizer state"), run.output());
    }

    /**
     * Without an SLF4J provider (a common state of DJL jobs) SLF4J drops every log line; octet's start-up
     * report then goes to standard error rather than nowhere.
     */
    @Test
    void theReportIsPrintedWhereTheJobsSlf4jHasNoProvider() throws Exception {
        List<String> classPath = new ArrayList<>(List.of(System.getProperty("octet.jobClasses")));
        try (var jars = Files.list(Path.of(System.getProperty("octet.jobLib")))) {
            jars.map(Path::toString).filter(j -> j.endsWith(".jar") && !j.contains("slf4j-simple")).forEach(classPath::add);
        }
        Run run = start(List.of(agent()), classPath, MAIN, "--steps", "2");
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("No SLF4J providers were found"), "the job has no provider: " + run.output());
        assertTrue(run.output().contains("octet: optimizer state of DJL Adam for model charlm")
                && run.output().contains("SLF4J has no logging provider in this job"), run.output());
    }

    /**
     * A policy naming the embedding block: its table starts Xavier-uniform, its output is layer-normalized
     * (each row mean 0, variance 1), its state is float32; without the agent the same program does neither.
     */
    @Test
    void aStableEmbeddingIsXavierUniformLayerNormalizedAndFloat32() throws Exception {
        Path stable = policy("stable.yaml", "stableEmbeddings:\n  - \"01TrainableWordEmbedding\"\n");
        String probe = "com.example.djlcharlm.StableEmbeddingProbe";
        List<String> testClasses = List.of(System.getProperty("octet.testClasses"));
        Run with = launch(List.of(agent("policy=" + stable)), testClasses, probe);
        Run without = launch(List.of(), testClasses, probe);
        assertEquals(0, with.exitCode(), with.output());
        assertEquals(0, without.exitCode(), without.output());
        double limit = Math.sqrt(6.0 / (96 + 64));
        Matcher w = Pattern.compile("embedding weights \\(96, 64\\): max \\|w\\| ([0-9.]+)").matcher(with.output());
        assertTrue(w.find(), with.output());
        double maxW = Double.parseDouble(w.group(1));
        assertTrue(maxW <= limit && maxW >= 0.95 * limit, "max |w| " + maxW + ", Xavier-uniform limit " + limit);
        Matcher o = Pattern.compile("max \\|row mean\\| ([0-9.e+-]+), row variance ([0-9.]+) to ([0-9.]+)").matcher(with.output());
        assertTrue(o.find(), with.output());
        assertTrue(Double.parseDouble(o.group(1)) < 1e-5, with.output());
        assertTrue(Double.parseDouble(o.group(2)) > 0.995 && Double.parseDouble(o.group(3)) < 1.0001, with.output());
        Matcher plain = Pattern.compile("row variance ([0-9.]+) to").matcher(without.output());
        assertTrue(plain.find(), without.output());
        assertTrue(Double.parseDouble(plain.group(1)) < 0.5, "without octet the embedding is not normalized: " + without.output());

        Run train = job(List.of(agent("policy=" + stable)), List.of(), "--steps", "60", "--every", "20");
        assertEquals(0, train.exitCode(), train.output());
        assertTrue(Pattern.compile("01TrainableWordEmbedding_embedding\\s+\\[96, 64]\\s+6,144\\s+Adam\\s+float32\\s+49,152\\s+49,152\\s+"
                + "stable embedding").matcher(train.output()).find(), train.output());
        List<Double> losses = train.losses();
        assertTrue(losses.get(2) < 0.9 * losses.get(0), train.output());
    }

    /**
     * A rule's {@code optimizer:} overrides move the parameters it names as they say, and only those:
     * with a learning rate of 1e-30 one dense layer's weight (8-bit state) and bias (float32 state) move
     * by about 1e-30 (zeros become tiny, the rest stays as it was in float32), while the others train.
     */
    @Test
    void aRulesOptimizerOverridesApplyToTheParametersItNamesOnly() throws Exception {
        Path tinyStep = policy("tiny-step.yaml", """
                rules:
                  - match:
                      name: "03Linear_*"
                    optimizer:
                      learningRate: 1.0e-30
                """);
        Path init = work.resolve("overrides-init.bin");
        Path trained = work.resolve("overrides-trained.bin");
        Run fresh = job(List.of(), List.of(), "--steps", "0", "--dump", init.toString());
        Run run = job(List.of(agent("policy=" + tinyStep)), List.of(), "--steps", "10", "--dump", trained.toString());
        assertEquals(0, fresh.exitCode(), fresh.output());
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(Pattern.compile("03Linear_weight\\s+\\[256, 1024]\\s+262,144\\s+Adam\\s+8-bit, block 256\\s+2,097,152\\s+532,480\\s+"
                + "rule 1 \\(line 2: name \"03Linear_\\*\"\\) -> 8-bit; optimizer: learningRate 1E-30").matcher(run.output()).find(),
                run.output());
        Map<String, float[]> before = parameters(init);
        Map<String, float[]> after = parameters(trained);
        assertEquals(before.keySet(), after.keySet());
        for (String name : before.keySet()) {
            float moved = 0;
            for (int i = 0; i < before.get(name).length; i++) {
                moved = Math.max(moved, Math.abs(after.get(name)[i] - before.get(name)[i]));
            }
            assertTrue(name.startsWith("03Linear_") ? moved < 1e-25 : moved > 1e-3, name + " moved by " + moved);
        }
    }

    /** A DJL job in the style of DJL's examples: {@code EasyTrain.fit}, a dataset, DJL's checkpoint listener. */
    static Run easyTrain(List<String> jvmArgs, String... args) throws Exception {
        return launch(jvmArgs, List.of(System.getProperty("octet.testClasses")), "com.example.djlcharlm.EasyTrainJob", args);
    }

    /** Four epochs of the EasyTrain job under octet (default policy) with one trainer: the straight run others compare with. */
    static Path easyTrainStraight() throws Exception {
        Path dump = work.resolve("easy-straight.bin");
        Run run = SHARED.computeIfAbsent("easy-straight", k -> {
            try {
                return easyTrain(List.of(agent()), "--epochs", "4", "--dump", dump.toString());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(0, run.exitCode(), run.output());
        return dump;
    }

    /**
     * DJL's optimizer object keeps its state and update counts across trainers made from one training
     * configuration: two trainers of two epochs each train as one of four (without the agent, checked
     * here too). Under octet its state goes on the same way.
     */
    @Test
    void aSecondTrainerFromTheSameConfigurationGoesOnWithTheOptimizersState() throws Exception {
        Path octetStraight = easyTrainStraight();
        Path octetPhased = work.resolve("easy-phased.bin");
        Path djlStraight = work.resolve("easy-djl-straight.bin");
        Path djlPhased = work.resolve("easy-djl-phased.bin");
        Run phased = easyTrain(List.of(agent()), "--epochs", "4", "--phases", "2", "--dump", octetPhased.toString());
        Run a = easyTrain(List.of(), "--epochs", "4", "--dump", djlStraight.toString());
        Run b = easyTrain(List.of(), "--epochs", "4", "--phases", "2", "--dump", djlPhased.toString());
        for (Run r : List.of(phased, a, b)) {
            assertEquals(0, r.exitCode(), r.output());
        }
        assertEquals(1, phased.count("octet: optimizer state of DJL Adam"), "one plan, kept by the second trainer: " + phased.output());
        assertArrayEquals(Files.readAllBytes(djlStraight), Files.readAllBytes(djlPhased), "DJL alone: 2 + 2 epochs = 4 epochs");
        assertArrayEquals(Files.readAllBytes(octetStraight), Files.readAllBytes(octetPhased), "octet: 2 + 2 epochs = 4 epochs");
        assertTrue(relativeError(octetStraight, djlStraight) > 0, "octet's run is not DJL's own");
    }

    /**
     * {@code EasyTrain.fit} with DJL's {@code SaveModelTrainingListener}: every epoch's checkpoint has octet's
     * state beside it, and a job that loads the newest one and trains on ends where four epochs straight end.
     */
    @Test
    void djlsCheckpointListenerSavesOctetsStateAndResumesBitIdentical() throws Exception {
        Path straight = easyTrainStraight();
        Path checkpoints = clean("easy-checkpoints");
        Path resumed = work.resolve("easy-resumed.bin");
        Run first = easyTrain(List.of(agent()), "--epochs", "2", "--save", checkpoints.toString());
        assertEquals(0, first.exitCode(), first.output());
        for (String file : List.of("charlm-0001.params", "charlm-0001.params.octet", "charlm-0002.params", "charlm-0002.params.octet")) {
            assertTrue(Files.exists(checkpoints.resolve(file)), file + " in " + checkpoints);
        }
        Run second = easyTrain(List.of(agent()), "--epochs", "2", "--load", checkpoints.toString(), "--dump", resumed.toString());
        assertEquals(0, second.exitCode(), second.output());
        assertTrue(second.output().contains("loaded epoch 2"), second.output());
        assertTrue(second.output().contains("[octet] restored the optimizer state of charlm from "
                + checkpoints.resolve("charlm-0002.params.octet")), second.output());
        assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(resumed), "2 epochs, checkpoint, 2 epochs = 4 epochs");
    }

    /** Two epochs of the EasyTrain job under octet, DJL's listener saving after each: the checkpoints the load-order tests resume from. */
    static Path easyTrainCheckpoints() throws Exception {
        Path checkpoints = work.resolve("easy-load-order-checkpoints");
        Run run = SHARED.computeIfAbsent("easy-checkpoints", k -> {
            try {
                return easyTrain(List.of(agent()), "--epochs", "2", "--save", clean("easy-load-order-checkpoints").toString());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(0, run.exitCode(), run.output());
        return checkpoints;
    }

    private static String loadedTooLate(Path checkpoints) {
        return "[octet] WARNING: the model charlm loaded " + checkpoints.resolve("charlm-0002.params")
                + " after its trainer had taken the arrays it trains (at Trainer.initialize or its first forward pass): DJL's"
                + " trainer goes on training those, so the loaded values are not the ones being trained";
    }

    private static String restored(Path checkpoints) {
        return "[octet] restored the optimizer state of charlm from " + checkpoints.resolve("charlm-0002.params.octet");
    }

    /**
     * {@code Model.load} before the trainer, or after {@code newTrainer} but before {@code Trainer.initialize}:
     * DJL trains the loaded values in both (checked without the agent: the same parameters either way), so
     * octet restores its state in both, and 2 epochs, checkpoint, 2 epochs end where 4 epochs straight end, bit
     * for bit. A {@code Model.save} before the first step writes the state loaded with the parameters.
     */
    @Test
    void loadingBeforeTheTrainerTakesItsArraysRestoresAndResumesExactly() throws Exception {
        Path straight = easyTrainStraight();
        Path checkpoints = easyTrainCheckpoints();
        Path beforeTrainer = work.resolve("load-before-trainer.bin");
        Path afterTrainer = work.resolve("load-after-trainer.bin");
        Path savedBeforeSteps = clean("load-saved-before-steps");
        Run a = easyTrain(List.of(agent()), "--epochs", "2", "--load", checkpoints.toString(), "--dump-trained", beforeTrainer.toString(),
                "--save-before-steps", savedBeforeSteps.toString());
        Run b = easyTrain(List.of(agent()), "--epochs", "2", "--load-after-trainer", checkpoints.toString(),
                "--dump-trained", afterTrainer.toString());
        Path djlBefore = work.resolve("load-before-trainer-djl.bin");
        Path djlAfter = work.resolve("load-after-trainer-djl.bin");
        Path djlNoLoad = work.resolve("load-none-djl.bin");
        Run c = easyTrain(List.of(), "--epochs", "2", "--load", checkpoints.toString(), "--dump-trained", djlBefore.toString());
        Run d = easyTrain(List.of(), "--epochs", "2", "--load-after-trainer", checkpoints.toString(), "--dump-trained", djlAfter.toString());
        Run e = easyTrain(List.of(), "--epochs", "2", "--dump-trained", djlNoLoad.toString());
        for (Run r : List.of(a, b, c, d, e)) {
            assertEquals(0, r.exitCode(), r.output());
        }
        assertArrayEquals(Files.readAllBytes(djlBefore), Files.readAllBytes(djlAfter), "DJL alone trains the loaded values either way");
        assertTrue(relativeError(djlBefore, djlNoLoad) > 1e-3, "and they are not the fresh ones");
        for (Run r : List.of(a, b)) {
            assertEquals(1, r.count(restored(checkpoints)), r.output());
            assertFalse(r.output().contains("WARNING"), r.output());
        }
        assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(beforeTrainer), "load before the trainer: 2 + 2 epochs = 4");
        assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(afterTrainer), "load before initialize: 2 + 2 epochs = 4");
        assertArrayEquals(Files.readAllBytes(checkpoints.resolve("charlm-0002.params.octet")),
                Files.readAllBytes(savedBeforeSteps.resolve("charlm-0002.params.octet")), "saved before any step: the state loaded");
    }

    /**
     * {@code Model.load} after {@code Trainer.initialize} (before the first step) or after some steps: DJL's
     * trainer keeps training the arrays it took and ignores the loaded values (without the agent: the same
     * trained parameters as a job that loads nothing). octet does not restore, keeps its state with what DJL
     * trains (the same parameters, bit for bit, as its own job that loads nothing), and says so once. A
     * {@code Model.save} before the first step writes the loaded values, and beside them the state loaded with them.
     */
    @ParameterizedTest
    @ValueSource(strings = {"--load-after-init", "--load-after-epoch"})
    void loadingAfterTheTrainerTookItsArraysIsNotRestoredAndSaysSo(String order) throws Exception {
        Path checkpoints = easyTrainCheckpoints();
        String name = order.substring(2);
        Path octetLate = work.resolve(name + "-octet.bin");
        Path octetNone = work.resolve(name + "-octet-none.bin");
        Path djlLate = work.resolve(name + "-djl.bin");
        Path djlNone = work.resolve(name + "-djl-none.bin");
        Path modelHolds = work.resolve(name + "-octet-model.bin");
        Path loadedValues = work.resolve(name + "-loaded.bin");
        // One epoch after an init-time load, three with a load after the first: never the checkpoint's two epochs by chance.
        String epochs = order.equals("--load-after-init") ? "1" : "3";
        Path savedBeforeSteps = clean(name + "-saved-before-steps");
        Run late = easyTrain(List.of(agent()), "--epochs", epochs, order, checkpoints.toString(), "--dump-trained", octetLate.toString(),
                "--dump", modelHolds.toString(), "--save-before-steps", savedBeforeSteps.toString());
        Run none = easyTrain(List.of(agent()), "--epochs", epochs, "--dump-trained", octetNone.toString());
        Run djl = easyTrain(List.of(), "--epochs", epochs, order, checkpoints.toString(), "--dump-trained", djlLate.toString());
        Run djlAlone = easyTrain(List.of(), "--epochs", epochs, "--dump-trained", djlNone.toString());
        Run loaded = easyTrain(List.of(), "--epochs", "0", "--load", checkpoints.toString(), "--dump", loadedValues.toString());
        for (Run r : List.of(late, none, djl, djlAlone, loaded)) {
            assertEquals(0, r.exitCode(), r.output());
        }
        assertArrayEquals(Files.readAllBytes(djlNone), Files.readAllBytes(djlLate), "DJL alone ignores the late load");
        assertArrayEquals(Files.readAllBytes(loadedValues), Files.readAllBytes(modelHolds), "the model holds the loaded values, untrained");
        assertEquals(1, late.count(loadedTooLate(checkpoints)), late.output());
        assertEquals(1, late.count("[octet] WARNING"), late.output());
        assertFalse(late.output().contains("restored"), late.output());
        assertArrayEquals(Files.readAllBytes(octetNone), Files.readAllBytes(octetLate), "octet trains on with the state of what DJL trains");
        if (order.equals("--load-after-init")) {
            // Model.save before the first step writes the loaded values: beside them, the state loaded with them.
            assertArrayEquals(Files.readAllBytes(checkpoints.resolve("charlm-0002.params.octet")),
                    Files.readAllBytes(savedBeforeSteps.resolve("charlm-0002.params.octet")), "the state saved with the loaded values");
        }
        assertTrue(relativeError(octetLate, djlLate) > 0, "octet's run is not DJL's own");
    }

    /**
     * A load after some steps, then a new trainer (same configuration): the first trainer ignores the load
     * (one warning), the second trains the loaded values, and octet restores the state saved with them
     * then: epoch 1, load the 2-epoch checkpoint, epoch 2 on the old arrays, 2 epochs on the loaded ones ends
     * where 4 epochs straight end.
     */
    @Test
    void aTrainerMadeAfterALateLoadTrainsTheLoadedValuesWithTheirState() throws Exception {
        Path straight = easyTrainStraight();
        Path checkpoints = easyTrainCheckpoints();
        Path phased = work.resolve("late-load-then-new-trainer.bin");
        Run run = easyTrain(List.of(agent()), "--epochs", "4", "--phases", "2", "--load-after-epoch", checkpoints.toString(),
                "--dump-trained", phased.toString());
        assertEquals(0, run.exitCode(), run.output());
        String out = run.output();
        int warned = out.indexOf(loadedTooLate(checkpoints));
        int restoredAt = out.indexOf(restored(checkpoints));
        assertTrue(warned >= 0 && out.indexOf("phase 1 done") > warned && restoredAt > out.indexOf("phase 1 done"), out);
        assertEquals(1, run.count("[octet] WARNING"), out);
        assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(phased), "ends where 4 epochs straight end");
    }

    /**
     * The 2-epoch checkpoint's values as a dump, and written with {@code Block.saveParameters} (no header, no
     * octet state beside it): the file a job's own {@code Block.loadParameters} reads. Plain DJL.
     */
    static Path[] checkpointValuesAndBlockFile() throws Exception {
        Path checkpoints = easyTrainCheckpoints();
        Path values = work.resolve("checkpoint-values.bin");
        Path blockFile = work.resolve("checkpoint.block");
        Run run = SHARED.computeIfAbsent("checkpoint-block", k -> {
            try {
                return easyTrain(List.of(), "--epochs", "0", "--load", checkpoints.toString(), "--dump", values.toString(),
                        "--block-save", blockFile.toString());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(0, run.exitCode(), run.output());
        return new Path[] {values, blockFile};
    }

    private static final String LOADED_FROM_A_STREAM = "[octet] WARNING: the parameters of model charlm were loaded with"
            + " Block.loadParameters (or Model.load from an InputStream), not Model.load from a folder: octet cannot learn"
            + " which file they came from, so it cannot find the optimizer state saved with them (charlm-NNNN.params.octet"
            + " beside charlm-NNNN.params) and restores nothing. Training goes on with fresh optimizer state. To resume it,"
            + " load with Model.load(folder, \"charlm\")";

    /**
     * {@code Block.loadParameters} called by the job itself, before the trainer: DJL trains the loaded values
     * (without the agent: the same parameters as after a {@code Model.load} of the checkpoint). The stream
     * tells octet no file, so it cannot find the state saved with them: it says so once, restores nothing,
     * and trains them with fresh state, bit for bit as a {@code Model.load} of the same parameters with no
     * state file beside them.
     */
    @Test
    void blockLoadParametersBeforeTheTrainerSaysItCannotRestoreAndTrainsWithFreshState() throws Exception {
        Path checkpoints = easyTrainCheckpoints();
        Path blockFile = checkpointValuesAndBlockFile()[1];
        Path withoutState = clean("checkpoint-without-state");
        Files.copy(checkpoints.resolve("charlm-0002.params"), withoutState.resolve("charlm-0002.params"));
        Path octetBlock = work.resolve("block-load-octet.bin");
        Path octetFresh = work.resolve("model-load-without-state-octet.bin");
        Path djlBlock = work.resolve("block-load-djl.bin");
        Path djlModel = work.resolve("model-load-djl.bin");
        Run block = easyTrain(List.of(agent()), "--epochs", "2", "--block-load", blockFile.toString(), "--dump-trained", octetBlock.toString());
        Run fresh = easyTrain(List.of(agent()), "--epochs", "2", "--load", withoutState.toString(), "--dump-trained", octetFresh.toString());
        Run djl = easyTrain(List.of(), "--epochs", "2", "--block-load", blockFile.toString(), "--dump-trained", djlBlock.toString());
        Run djlLoad = easyTrain(List.of(), "--epochs", "2", "--load", checkpoints.toString(), "--dump-trained", djlModel.toString());
        for (Run r : List.of(block, fresh, djl, djlLoad)) {
            assertEquals(0, r.exitCode(), r.output());
        }
        assertArrayEquals(Files.readAllBytes(djlModel), Files.readAllBytes(djlBlock), "DJL alone trains the values Block.loadParameters loaded");
        assertEquals(1, block.count(LOADED_FROM_A_STREAM), block.output());
        assertEquals(1, block.count("[octet] WARNING"), block.output());
        assertFalse(block.output().contains("restored"), block.output());
        assertTrue(fresh.output().contains("its optimizer state cannot be restored: there is no octet state file"), fresh.output());
        assertArrayEquals(Files.readAllBytes(octetFresh), Files.readAllBytes(octetBlock), "the loaded values, trained with fresh state");
    }

    /**
     * {@code Block.loadParameters} once the trainer is initialized: DJL's trainer goes on with the arrays it
     * took (as after a late {@code Model.load}); octet keeps its state with them (the same parameters, bit for
     * bit, as its job that loads nothing), restores nothing, and says so once.
     */
    @Test
    void blockLoadParametersAfterTheTrainerTookItsArraysSaysSo() throws Exception {
        Path blockFile = checkpointValuesAndBlockFile()[1];
        Path late = work.resolve("block-load-after-init-octet.bin");
        Path none = work.resolve("block-load-none-octet.bin");
        Run run = easyTrain(List.of(agent()), "--epochs", "1", "--block-load-after-init", blockFile.toString(), "--dump-trained", late.toString());
        Run alone = easyTrain(List.of(agent()), "--epochs", "1", "--dump-trained", none.toString());
        for (Run r : List.of(run, alone)) {
            assertEquals(0, r.exitCode(), r.output());
        }
        assertEquals(1, run.count("[octet] WARNING: the parameters of model charlm were loaded with Block.loadParameters (or"
                + " Model.load from an InputStream) after its trainer had taken the arrays it trains"), run.output());
        assertEquals(1, run.count("[octet] WARNING"), run.output());
        assertFalse(run.output().contains("restored"), run.output());
        assertArrayEquals(Files.readAllBytes(none), Files.readAllBytes(late), "octet trains on with the state of what DJL trains");
    }

    /**
     * A second {@code Model} instance of the same name, made after the first model trained an epoch, loads the
     * 2-epoch checkpoint into the first model's block object or a new block, and a trainer from it (a new
     * configuration) trains 2 epochs: octet restores the state saved with the checkpoint for that trainer and
     * it ends where 4 epochs straight end, bit for bit; the first model's state stays its own.
     */
    @ParameterizedTest
    @ValueSource(strings = {"same", "new"})
    void aSecondModelInstanceThatLoadsACheckpointResumesExactly(String block) throws Exception {
        Path straight = easyTrainStraight();
        Path checkpoints = easyTrainCheckpoints();
        Path trained = work.resolve("second-model-" + block + "-block.bin");
        Run run = easyTrain(List.of(agent()), "--epochs", "1", "--second-model", checkpoints.toString(), "--second-model-block", block,
                "--second-dump-trained", trained.toString());
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("second model loaded epoch 2"), run.output());
        assertEquals(1, run.count(restored(checkpoints)), run.output());
        assertFalse(run.output().contains("WARNING"), run.output());
        assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(trained), "1 epoch of another model, then 2 + 2 epochs = 4");
    }

    /**
     * A second {@code Model} instance loads the checkpoint into the block the first model's trainer is training
     * (after its first epoch): that trainer goes on with the arrays it took (its two epochs end where the
     * checkpoint's two did, bit for bit: octet's state stayed with them) and octet says once that the first
     * model's loaded values are not the ones trained; then a trainer from the second model trains the loaded
     * values, and octet restores their state for it: it ends where 4 epochs straight end.
     */
    @Test
    void aTrainerGoesOnWithItsArraysWhenASecondModelLoadsIntoItsBlock() throws Exception {
        Path straight = easyTrainStraight();
        Path checkpoints = easyTrainCheckpoints();
        Path checkpointValues = checkpointValuesAndBlockFile()[0];
        Path first = work.resolve("second-model-during-first.bin");
        Path second = work.resolve("second-model-during-second.bin");
        Run run = easyTrain(List.of(agent()), "--epochs", "2", "--second-model", checkpoints.toString(), "--second-model-at", "after-epoch",
                "--dump-trained", first.toString(), "--second-dump-trained", second.toString());
        assertEquals(0, run.exitCode(), run.output());
        String out = run.output();
        String replaced = "[octet] WARNING: the parameters of model charlm were replaced by another Model instance's Model.load of "
                + checkpoints.resolve("charlm-0002.params") + " into the same block after its trainer had taken the arrays it trains";
        assertEquals(1, run.count(replaced), out);
        assertEquals(1, run.count("[octet] WARNING"), out);
        assertEquals(1, run.count(restored(checkpoints)), out);
        assertTrue(out.indexOf(replaced) < out.indexOf("phase 1 done") && out.indexOf(restored(checkpoints)) > out.indexOf("phase 1 done"), out);
        assertArrayEquals(Files.readAllBytes(checkpointValues), Files.readAllBytes(first), "the first trainer's 2 epochs are the checkpoint's");
        assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(second), "the second model's 2 epochs on the checkpoint = 4 straight");
    }

    /**
     * As above, but then the first model makes a new trainer (same configuration) instead: it trains the
     * values the second model loaded into the block, and octet restores the state saved with them for it:
     * epoch 1, the other model's load, epoch 2 on the old arrays, 2 epochs on the loaded ones end where 4
     * epochs straight end. The second model's trainer, which trains nothing here, restores nothing again.
     */
    @Test
    void aNewTrainerOfTheFirstModelTrainsWhatASecondModelLoadedWithItsState() throws Exception {
        Path straight = easyTrainStraight();
        Path checkpoints = easyTrainCheckpoints();
        Path phased = work.resolve("second-model-then-new-trainer.bin");
        Run run = easyTrain(List.of(agent()), "--epochs", "4", "--phases", "2", "--second-model", checkpoints.toString(),
                "--second-model-at", "after-epoch", "--second-epochs", "0", "--dump-trained", phased.toString());
        assertEquals(0, run.exitCode(), run.output());
        String out = run.output();
        assertEquals(1, run.count("[octet] WARNING"), out);
        assertEquals(1, run.count(restored(checkpoints)), out);
        assertTrue(out.indexOf(restored(checkpoints)) > out.indexOf("phase 1 done"), out);
        assertArrayEquals(Files.readAllBytes(straight), Files.readAllBytes(phased), "ends where 4 epochs straight end");
    }

    /**
     * Warnings are once per cause and subject: in a job that trains two models, one after the other, each
     * model gets its own warning for a policy's stable embedding that is no embedding and for a load that
     * came after its trainer took its arrays (keyed by the cause alone, the second model's would be hidden).
     */
    @Test
    void eachModelGetsItsOwnWarnings() throws Exception {
        Path checkpoints = easyTrainCheckpoints();
        Path notAnEmbedding = policy("stable-linear.yaml", "stableEmbeddings:\n  - \"03Linear\"\n");
        Run run = easyTrain(List.of(agent("policy=" + notAnEmbedding)), "--models", "2", "--epochs", "1", "--load-after-init",
                checkpoints.toString());
        assertEquals(0, run.exitCode(), run.output());
        for (String model : List.of("charlm", "charlm2")) {
            assertEquals(1, run.count("[octet] WARNING: the policy names 03Linear a stable embedding, but in the model " + model
                    + " it is a Linear, not a DJL Embedding"), run.output());
            assertEquals(1, run.count("[octet] WARNING: the model " + model + " loaded " + checkpoints.resolve("charlm-0002.params")
                    + " after its trainer had taken the arrays it trains"), run.output());
            assertTrue(run.output().contains("octet: optimizer state of DJL Adam for model " + model + " "), run.output());
        }
        assertEquals(4, run.count("[octet] WARNING"), run.output());
    }

    /**
     * Fine-tuning: layers frozen while the first trainer runs are unfrozen for the second (same
     * configuration). octet plans and reports them at their first update and trains them with fresh
     * state, as DJL does. Compared with DJL's own update on Sgd with momentum, whose float32 path in octet
     * is DJL's to the bit: Adam's step count for a newly trainable parameter depends, in DJL, on the
     * order its parameter map happens to list the ids in, which changes from run to run.
     */
    @Test
    void parametersUnfrozenLaterGetOctetStateAndDjlsMath() throws Exception {
        Path octet = work.resolve("unfrozen-octet-32.bin");
        Path djl = work.resolve("unfrozen-djl.bin");
        List<String> args = List.of("--epochs", "2", "--phases", "2", "--freeze-first-phase", "true");
        Run eight = easyTrain(List.of(agent()), args.toArray(new String[0]));
        Run full = easyTrain(List.of(agent("policy=" + all32())), concat(args, "--optimizer", "sgd", "--dump", octet.toString()));
        Run plain = easyTrain(List.of(), concat(args, "--optimizer", "sgd", "--dump", djl.toString()));
        for (Run r : List.of(eight, full, plain)) {
            assertEquals(0, r.exitCode(), r.output());
        }
        String out = eight.output();
        int first = out.indexOf("octet: optimizer state of DJL Adam for model charlm (policy");
        int later = out.indexOf("octet: optimizer state of DJL Adam for model charlm, parameters unfrozen since its first step");
        assertTrue(first >= 0 && later > first, out);
        assertTrue(out.substring(first, later).contains("07Linear_weight") && !out.substring(first, later).contains("03Linear_weight"),
                "the first plan has the output layer only: " + out);
        assertTrue(Pattern.compile("03Linear_weight\\s+\\[256, 1024]\\s+262,144\\s+Adam\\s+8-bit, block 256").matcher(out.substring(later))
                .find(), out);
        assertFalse(out.contains("WARNING"), out);
        assertTrue(full.output().contains("parameters unfrozen since its first step"), full.output());
        assertArrayEquals(Files.readAllBytes(djl), Files.readAllBytes(octet), "octet's float32 Sgd after unfreezing is DJL's");
    }

    private static String[] concat(List<String> args, String... more) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of(more));
        return all.toArray(new String[0]);
    }

    /** A parameter dump: each parameter's name and values. */
    static Map<String, float[]> parameters(Path dump) throws IOException {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(dump)))) {
            while (in.available() > 0) {
                String name = in.readUTF();
                float[] values = new float[in.readInt()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = in.readFloat();
                }
                out.put(name, values);
            }
        }
        return out;
    }

    /** Largest absolute difference between two parameter dumps, relative to the largest parameter. */
    static double relativeError(Path a, Path b) throws IOException {
        double largestDifference = 0;
        double largest = 0;
        try (DataInputStream x = new DataInputStream(new BufferedInputStream(Files.newInputStream(a)));
                DataInputStream y = new DataInputStream(new BufferedInputStream(Files.newInputStream(b)))) {
            while (x.available() > 0) {
                assertEquals(x.readUTF(), y.readUTF());
                int n = x.readInt();
                assertEquals(n, y.readInt());
                for (int i = 0; i < n; i++) {
                    float p = x.readFloat();
                    float q = y.readFloat();
                    largestDifference = Math.max(largestDifference, Math.abs(p - q));
                    largest = Math.max(largest, Math.abs(q));
                }
            }
            assertEquals(0, y.available(), "same parameters");
        }
        return largestDifference / largest;
    }

    private static Path clean(String name) throws IOException {
        Path dir = work.resolve(name);
        if (Files.exists(dir)) {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
        }
        return Files.createDirectories(dir);
    }

    /** A class-path folder, first in line, whose DJL version marker says {@code version}. */
    private static Path fakeDjlVersion(String version) throws IOException {
        Path dir = work.resolve("djl-" + version);
        Path props = dir.resolve("ai/djl/engine/api.properties");
        Files.createDirectories(props.getParent());
        Files.writeString(props, "djl_version=" + version + "\n");
        return dir;
    }
}
