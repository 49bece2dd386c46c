package dev.octet.kernels.tools;

import dev.octet.kernels.CpuCodec;
import dev.octet.kernels.KernelPool;
import dev.octet.kernels.conformance.Conformance;
import dev.octet.kernels.conformance.ReferenceFile;
import dev.octet.kernels.cuda.Cuda;
import dev.octet.kernels.cuda.CudaBackend;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code java -jar octet-conformance.jar [--backend cpu|cuda] <path>/bnb_golden}: checks every map,
 * block-wise vector and optimizer trajectory in a reference file, prints a table, and exits 1 if
 * anything falls short (2 on a usage or file error, or when the CUDA backend asked for is absent).
 * {@code --backend cuda} runs the same checks through the CUDA kernels on the GPU. A tool over both
 * packages, so that neither {@code conformance} nor {@code cuda} depends on the other's user.
 */
public final class ConformanceRunner {

    private ConformanceRunner() {
    }

    public static void main(String[] args) {
        String backend = "cpu";
        String file = null;
        boolean usage = false;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--backend") && i + 1 < args.length) {
                backend = args[++i];
            } else if (args[i].startsWith("--backend=")) {
                backend = args[i].substring("--backend=".length());
            } else if (file == null && !args[i].startsWith("--")) {
                file = args[i];
            } else {
                usage = true;
            }
        }
        if (usage || file == null || !(backend.equals("cpu") || backend.equals("cuda"))) {
            System.err.println("usage: java -jar octet-conformance.jar [--backend cpu|cuda] <path>/<reference> "
                    + "(the pair <reference>.json and <reference>.bin)");
            System.exit(2);
        }
        List<Conformance.Row> rows;
        try {
            ReferenceFile reference = ReferenceFile.open(Path.of(file));
            Conformance.Engine engine;
            if (backend.equals("cuda")) {
                if (!Cuda.available()) {
                    System.err.println(Cuda.unavailableReason());
                    System.exit(2);
                    return;
                }
                var cuda = CudaBackend.get();
                System.out.println("backend: cuda (" + cuda.description() + ")");
                engine = new CudaConformanceEngine(cuda);
            } else {
                // Both CPU codecs must pass: `java --add-modules jdk.incubator.vector -jar ...` runs the SIMD one
                // (from its first block: the runner waits for the codec's warm-up).
                System.out.println("backend: cpu, codec " + CpuCodec.description());
                if (CpuCodec.vector() && !CpuCodec.awaitSimd(120_000)) {
                    System.err.println("octet conformance: the SIMD codec's warm-up did not end in two minutes");
                    System.exit(2);
                }
                engine = Conformance.cpu(KernelPool.shared());
            }
            System.out.println("octet conformance against " + reference.base());
            rows = new Conformance(reference, engine).run();
        } catch (Exception e) {
            System.err.println("octet conformance: " + e.getMessage());
            System.exit(2);
            return;
        }
        int width = rows.stream().mapToInt(r -> r.subject().length()).max().orElse(10);
        int failed = 0;
        for (Conformance.Row row : rows) {
            System.out.printf("%-4s  %-" + width + "s  %s%n", row.pass() ? "ok" : "FAIL", row.subject(), row.detail());
            if (!row.pass()) {
                failed++;
            }
        }
        System.out.printf("%d checks, %d failed%n", rows.size(), failed);
        System.exit(failed == 0 ? 0 : 1);
    }
}
