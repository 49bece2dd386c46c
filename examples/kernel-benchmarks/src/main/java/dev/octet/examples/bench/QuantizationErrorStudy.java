package dev.octet.examples.bench;

import dev.octet.kernels.QuantizationMap;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * The fidelity study's quantization error table (the paper's analysis, in miniature): real Adam state
 * (first and second moments written by the examples' {@code AdamMoments} at several steps of a float32
 * run of each framework's char-LM) quantized with each scheme, linear or dynamic map, scaled per tensor
 * or per block of 4096, 2048 or 256, and compared with the float32 state: the mean absolute and the
 * relative error of each moment, and of the update they give, {@code m / (sqrt(v) + eps)}.
 *
 * <p>Every scheme encodes as octet's optimizers do (the block's largest magnitude as its scale; the
 * first moment's codes keep the value's sign, the second moment's positive values never round to zero)
 * and differs only in the map and the block. The linear maps (evenly spaced values: k / 127 for the
 * first moment, k / 255 for the second) exist only for this study.
 *
 * <pre>QuantizationErrorStudy &lt;moments folder&gt; &lt;report.md&gt; &lt;plot.png&gt;</pre>
 */
public final class QuantizationErrorStudy {

    private static final float EPS = 1e-8f;
    private static final Pattern FILE = Pattern.compile("(\\w+)-step(\\d+)\\.moments");
    /** 0 = one block for the whole tensor. */
    private static final int[] BLOCKS = {0, 4096, 2048, 256};

    private QuantizationErrorStudy() {
    }

    /** One quantization scheme: a map for each moment and a block size (0: the tensor). */
    record Scheme(String map, QuantizationMap signed, QuantizationMap unsigned, int block) {
        String label() {
            return map + ", " + (block == 0 ? "tensor-wise" : "block " + block);
        }
    }

    /**
     * Sums over elements of the absolute error and of the true magnitude: the mean absolute error, and
     * the relative error as their ratio (a per-element ratio would be ruled by the many values near zero,
     * whose relative error is large in any 8-bit scheme and matters to no update).
     */
    static final class Error {
        double absolute;
        double magnitude;
        long elements;

        void add(float truth, float approx) {
            absolute += Math.abs((double) approx - truth);
            magnitude += Math.abs((double) truth);
            elements++;
        }

        double meanAbsolute() {
            return absolute / elements;
        }

        double relative() {
            return magnitude == 0 ? 0 : absolute / magnitude;
        }
    }

    record Moments(String parameter, float[] m, float[] v) {
    }

    public static void main(String[] args) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Path folder = Path.of(args[0]);
        List<Scheme> schemes = schemes();
        // framework -> scheme -> errors of m, v and the update
        Map<String, Map<Scheme, Error[]>> results = new TreeMap<>();
        Map<String, List<String>> snapshots = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> list = Files.list(folder)) {
            files = list.filter(p -> FILE.matcher(p.getFileName().toString()).matches())
                    .sorted(Comparator.comparing((Path p) -> framework(p)).thenComparingInt(p -> step(p))).toList();
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no *-stepN.moments files in " + folder + " (the examples' AdamMoments write them)");
        }
        for (Path file : files) {
            String framework = framework(file);
            List<Moments> state = read(file);
            long elements = state.stream().mapToLong(s -> s.m().length).sum();
            snapshots.computeIfAbsent(framework, k -> new ArrayList<>()).add("step " + step(file) + " ("
                    + String.format(Locale.ROOT, "%,d", elements) + " elements in " + state.size() + " tensors)");
            Map<Scheme, Error[]> byScheme = results.computeIfAbsent(framework, k -> new LinkedHashMap<>());
            for (Scheme scheme : schemes) {
                Error[] e = byScheme.computeIfAbsent(scheme, k -> new Error[] {new Error(), new Error(), new Error()});
                for (Moments s : state) {
                    measure(scheme, s, e);
                }
            }
            System.out.println(file.getFileName() + ": " + state.size() + " tensors measured");
        }
        Files.writeString(Path.of(args[1]), report(results, snapshots, folder));
        plot(results, Path.of(args[2]));
        System.out.println("wrote " + args[1] + " and " + args[2]);
    }

    private static String framework(Path file) {
        Matcher m = FILE.matcher(file.getFileName().toString());
        return m.matches() ? m.group(1) : "";
    }

    private static int step(Path file) {
        Matcher m = FILE.matcher(file.getFileName().toString());
        return m.matches() ? Integer.parseInt(m.group(2)) : 0;
    }

    static List<Scheme> schemes() {
        // k / 127 for k = -128..127 (0 and both ends exact; -128/127 is never the nearest) and k / 255.
        QuantizationMap linearSigned = QuantizationMap.of("linear-signed", linear(-128, 127f));
        QuantizationMap linearUnsigned = QuantizationMap.of("linear-unsigned", linear(0, 255f));
        List<Scheme> schemes = new ArrayList<>();
        for (int block : BLOCKS) {
            schemes.add(new Scheme("linear", linearSigned, linearUnsigned, block));
        }
        for (int block : BLOCKS) {
            schemes.add(new Scheme("dynamic", QuantizationMap.dynamicSigned(), QuantizationMap.dynamicUnsigned(), block));
        }
        return schemes;
    }

    private static float[] linear(int firstStep, float steps) {
        float[] values = new float[256];
        for (int i = 0; i < 256; i++) {
            values[i] = (firstStep + i) / steps;
        }
        return values;
    }

    /** Adds the errors of {@code s} under {@code scheme} to {@code e}: first moment, second, update. */
    static void measure(Scheme scheme, Moments s, Error[] e) {
        float[] m = quantized(s.m(), scheme.signed(), scheme.block(), true, false);
        float[] v = quantized(s.v(), scheme.unsigned(), scheme.block(), false, true);
        for (int i = 0; i < m.length; i++) {
            e[0].add(s.m()[i], m[i]);
            e[1].add(s.v()[i], v[i]);
            float update = s.m()[i] / ((float) Math.sqrt(s.v()[i]) + EPS);
            e[2].add(update, m[i] / ((float) Math.sqrt(v[i]) + EPS));
        }
    }

    /** {@code x} encoded block by block (largest magnitude as the scale) and decoded. */
    static float[] quantized(float[] x, QuantizationMap map, int block, boolean keepSign, boolean keepPositive) {
        int b = block == 0 ? Math.max(1, x.length) : block;
        float[] out = new float[x.length];
        for (int start = 0; start < x.length; start += b) {
            int end = Math.min(x.length, start + b);
            float absmax = 0f;
            for (int i = start; i < end; i++) {
                absmax = Math.max(absmax, Math.abs(x[i]));
            }
            for (int i = start; i < end; i++) {
                out[i] = absmax == 0f ? 0f : map.value(map.nearestCode(x[i] / absmax, keepSign, keepPositive)) * absmax;
            }
        }
        return out;
    }

    static List<Moments> read(Path file) throws IOException {
        List<Moments> state = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            int count = in.readInt();
            for (int p = 0; p < count; p++) {
                String name = in.readUTF();
                int n = in.readInt();
                float[] m = new float[n];
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    m[i] = in.readFloat();
                }
                for (int i = 0; i < n; i++) {
                    v[i] = in.readFloat();
                }
                state.add(new Moments(name, m, v));
            }
        }
        return state;
    }

    private static String report(Map<String, Map<Scheme, Error[]>> results, Map<String, List<String>> snapshots, Path folder) {
        StringBuilder out = new StringBuilder();
        out.append("# Quantization error of real Adam state\n\n");
        out.append("Measured ").append(LocalDate.now()).append(" by `QuantizationErrorStudy` (examples/kernel-benchmarks) from the")
                .append(" moments in `").append(folder.getFileName()).append("`. Errors are means over every element of every")
                .append(" tensor of every snapshot; the relative error is the sum of absolute errors over the sum of the float32")
                .append(" values' magnitudes. The update is `m / (sqrt(v) + 1e-8)`.\n");
        for (Map.Entry<String, Map<Scheme, Error[]>> f : results.entrySet()) {
            out.append("\n## ").append(f.getKey()).append("\n\nSnapshots: ").append(String.join(", ", snapshots.get(f.getKey())))
                    .append(".\n\n");
            out.append("| scheme | m: mean abs | m: relative | v: mean abs | v: relative | update: mean abs | update: relative |\n");
            out.append("|---|---:|---:|---:|---:|---:|---:|\n");
            for (Map.Entry<Scheme, Error[]> s : f.getValue().entrySet()) {
                Error[] e = s.getValue();
                out.append(String.format(Locale.ROOT, "| %s | %.3e | %.4f | %.3e | %.4f | %.3e | %.4f |%n", s.getKey().label(),
                        e[0].meanAbsolute(), e[0].relative(), e[1].meanAbsolute(), e[1].relative(),
                        e[2].meanAbsolute(), e[2].relative()));
            }
        }
        return out.toString();
    }

    private static void plot(Map<String, Map<Scheme, Error[]>> results, Path png) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (Map.Entry<String, Map<Scheme, Error[]>> f : results.entrySet()) {
            for (Map.Entry<Scheme, Error[]> s : f.getValue().entrySet()) {
                data.addValue(s.getValue()[2].relative(), f.getKey(), s.getKey().label());
            }
        }
        JFreeChart chart = ChartFactory.createBarChart("Relative error of the Adam update, 8-bit state",
                "scheme", "relative error: sum |error| / sum |update|", data, PlotOrientation.HORIZONTAL, true, false, false);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 900, 600);
    }
}
