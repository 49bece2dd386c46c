package dev.octet.examples.bench;

import java.io.File;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Two builds of the kernels side by side in one JVM: one 8-bit Adam step ({@code ReferenceOptimizers.adam})
 * over one tensor, the two builds alternating step by step on the same data, each in its own class
 * loader; prints each build's median and their ratio. On a shared, noisy machine this tells a change's
 * cost where two JMH runs, minutes apart, cannot.
 *
 * <pre>java -cp kernel-benchmarks.jar dev.octet.examples.bench.BuildComparison baseline.jar candidate.jar [parameters] [threads] [steps]</pre>
 *
 * Each jar needs the {@code dev.octet.kernels} classes (the kernels jar, or this benchmark jar of that build).
 */
public final class BuildComparison {

    private static final int WARM_UP = 10;

    private BuildComparison() {
    }

    /** One build's kernels, reached by reflection through its own class loader. */
    private static final class Build {
        final String name;
        final Object state;
        final Object pool;
        final Object options;
        final Method adam;
        final Method apply;
        final List<Long> nanos = new ArrayList<>();

        Build(String jar, int n, int threads) throws ReflectiveOperationException, java.io.IOException {
            name = new File(jar).getName();
            ClassLoader loader = new URLClassLoader(new URL[] {new File(jar).toURI().toURL()}, null);
            Class<?> kind = loader.loadClass("dev.octet.kernels.StatisticKind");
            Object kinds = Array.newInstance(kind, 2);
            Array.set(kinds, 0, kind.getField("SIGNED").get(null));
            Array.set(kinds, 1, kind.getField("UNSIGNED").get(null));
            state = loader.loadClass("dev.octet.kernels.QuantizedState")
                    .getMethod("allocate", int.class, int.class, kinds.getClass()).invoke(null, n, 256, kinds);
            Class<?> poolClass = loader.loadClass("dev.octet.kernels.KernelPool");
            pool = poolClass.getMethod("ofThreads", int.class).invoke(null, threads);
            Class<?> optionsClass = loader.loadClass("dev.octet.kernels.StepOptions");
            options = optionsClass.getField("DEFAULT").get(null);
            adam = loader.loadClass("dev.octet.kernels.rules.ReferenceOptimizers").getMethod("adam", float.class,
                    float.class, float.class, float.class, float.class, int.class);
            apply = loader.loadClass("dev.octet.kernels.FusedUpdate").getMethod("apply", FloatBuffer.class,
                    FloatBuffer.class, loader.loadClass("dev.octet.kernels.OptimizerState"),
                    loader.loadClass("dev.octet.kernels.UpdateRule"), optionsClass, poolClass);
        }

        long step(float[] params, float[] grad, int t) throws ReflectiveOperationException {
            Object rule = adam.invoke(null, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, t);
            FloatBuffer p = FloatBuffer.wrap(params);
            FloatBuffer g = FloatBuffer.wrap(grad);
            long start = System.nanoTime();
            apply.invoke(null, p, g, state, rule, options, pool);
            return System.nanoTime() - start;
        }

        double medianMs() {
            List<Long> sorted = new ArrayList<>(nanos);
            Collections.sort(sorted);
            return sorted.get(sorted.size() / 2) / 1e6;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: BuildComparison <baseline jar> <candidate jar> [parameters, 16777216] [threads, 1] [steps, 60]");
            System.exit(2);
        }
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 1 << 24;
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        int steps = args.length > 4 ? Integer.parseInt(args[4]) : 60;
        SplittableRandom random = new SplittableRandom(42);
        float[] params = new float[n];
        float[] grad = new float[n];
        for (int i = 0; i < n; i++) {
            params[i] = (float) (random.nextDouble() - 0.5);
            grad[i] = (float) ((random.nextDouble() - 0.5) * 0.01);
        }
        Build[] builds = {new Build(args[0], n, threads), new Build(args[1], n, threads)};
        float[] work = new float[n];
        for (int step = 0; step < WARM_UP + steps; step++) {
            for (int k = 0; k < 2; k++) {
                Build b = builds[step % 2 == 0 ? k : 1 - k];   // alternate which goes first
                System.arraycopy(params, 0, work, 0, n);
                long nanos = b.step(work, grad, step + 1);
                if (step >= WARM_UP) {
                    b.nanos.add(nanos);
                }
            }
        }
        double base = builds[0].medianMs();
        double cand = builds[1].medianMs();
        System.out.printf(Locale.ROOT, "%d parameters, %d thread(s), median of %d steps each: %s %.2f ms (%.2f ns/param),"
                + " %s %.2f ms (%.2f ns/param); candidate / baseline %.3f%n", n, threads, steps, builds[0].name, base,
                base * 1e6 / n, builds[1].name, cand, cand * 1e6 / n, cand / base);
    }
}
