package dev.octet.examples.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A job in a child JVM, exactly as a user starts it: the test's own Java, the agent among the JVM's
 * arguments, two OpenMP threads (the frameworks' native code would take every core) that sleep when idle,
 * as the README advises (OMP_WAIT_POLICY=PASSIVE: with OpenMP's default spinning a DL4J test job on two
 * cores took 7.7 s instead of 5.4; results are the same). Also the agent's flag, the work folder and the
 * policy files the integration tests of every framework write.
 */
public final class ChildJvm {

    /** How long one job may take before the test fails. */
    private static final long MINUTES = 10;

    /** What a job did: its exit code and everything it printed (standard output and error, interleaved). */
    public record Result(int exitCode, String output) {

        /** How often {@code text} occurs in the output. */
        public int count(String text) {
            return output.split(Pattern.quote(text), -1).length - 1;
        }
    }

    private ChildJvm() {
    }

    /** Runs {@code java <jvmArgs> <launch> <args>}; {@code launch} is the class path and main class, or {@code -jar}. */
    public static Result java(List<String> jvmArgs, List<String> launch, List<String> args) throws IOException, InterruptedException {
        return java(Path.of(System.getProperty("java.home")), jvmArgs, launch, args);
    }

    /** {@link #java(List, List, List)} with the JDK at {@code javaHome}. */
    public static Result java(Path javaHome, List<String> jvmArgs, List<String> launch, List<String> args)
            throws IOException, InterruptedException {
        return java(javaHome, List.of(), jvmArgs, launch, args);
    }

    /** {@link #java(List, List, List)} with these environment variables removed (the harness's own among them). */
    public static Result javaWithout(List<String> environment, List<String> jvmArgs, List<String> launch, List<String> args)
            throws IOException, InterruptedException {
        return java(Path.of(System.getProperty("java.home")), environment, jvmArgs, launch, args);
    }

    private static Result java(Path javaHome, List<String> unset, List<String> jvmArgs, List<String> launch, List<String> args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(javaHome.resolve("bin").resolve("java").toString());
        command.addAll(jvmArgs);
        command.addAll(launch);
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "2");
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().keySet().removeAll(unset);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(MINUTES, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("the job did not finish in " + MINUTES + " minutes: " + command);
        }
        return new Result(p.exitValue(), new String(out));
    }

    /**
     * The newest JDK the tests know of besides the one running them: system property {@code octet.it.newerJdk}
     * (the build sets it to JDK 25's usual place, {@code /usr/lib/jvm/temurin-25-jdk-amd64}), if a JDK is there.
     */
    public static java.util.Optional<Path> newerJdk() {
        String home = System.getProperty("octet.it.newerJdk", "");
        return home.isEmpty() || !Files.isExecutable(Path.of(home, "bin", "java")) ? java.util.Optional.empty()
                : java.util.Optional.of(Path.of(home));
    }

    /** {@code -javaagent:} with the agent jar the build made (system property {@code octet.agentJar}) and these options. */
    public static String agent(String... options) {
        String jar = "-javaagent:" + System.getProperty("octet.agentJar");
        return options.length == 0 ? jar : jar + "=" + String.join(",", options);
    }

    /** The tests' work folder (system property {@code octet.workDir}, else {@code target/it}), made if missing. */
    public static Path workDir() throws IOException {
        return Files.createDirectories(Path.of(System.getProperty("octet.workDir", "target/it")));
    }

    /** A policy file {@code name} in the work folder, holding {@code yaml}. */
    public static Path policy(String name, String yaml) throws IOException {
        return Files.writeString(workDir().resolve(name), yaml);
    }
}
