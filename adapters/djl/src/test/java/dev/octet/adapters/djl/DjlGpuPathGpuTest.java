package dev.octet.adapters.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import dev.octet.adapters.core.OctetRuntime;
import dev.octet.kernels.OptimizerState;
import dev.octet.kernels.QuantizedState;
import dev.octet.kernels.cuda.Cuda;
import dev.octet.kernels.cuda.CudaBackend;
import dev.octet.policy.Policy;
import dev.octet.policy.PolicyParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * octet's GPU path for DJL models (PyTorch engine on a CUDA device), against octet's CPU path and
 * DJL's own GPU optimizers, with real DJL tensors on both devices: the same model twice (its CPU copy
 * and its GPU copy start from the same values), the same gradients, several steps. Needs a GPU, octet's
 * CUDA backend and a DJL PyTorch engine that runs on that GPU (on the lent machine: DJL's JNI bridge
 * built for its PyTorch by {@code src/test/gpu/djl-jni-for-torch.sh}); skipped, with the reason, where
 * any is missing.
 */
class DjlGpuPathGpuTest {

    private static final int STEPS = 6;
    private static String skipped;

    @BeforeAll
    static void gpu() {
        if (!Cuda.available()) {
            skipped = Cuda.unavailableReason();
        } else {
            try {
                Engine engine = Engine.getEngine("PyTorch");
                if (engine.getGpuCount() == 0) {
                    skipped = "DJL's PyTorch engine sees no GPU";
                }
            } catch (RuntimeException | LinkageError e) {
                skipped = "DJL's PyTorch engine is not usable here (" + e + ")";
            }
        }
        if (skipped != null) {
            System.err.println("[octet] DJL GPU tests skipped: " + skipped);
        } else {
            System.err.println("[octet] DJL GPU tests on " + CudaBackend.get().description());
        }
    }

    @BeforeEach
    void needsGpu() {
        assumeTrue(skipped == null, () -> "skipped, needs a GPU that DJL and octet both use: " + skipped);
    }

    @AfterEach
    void defaultPolicy() {
        OctetRuntime.install(Policy.defaults());
    }

    /** DJL's optimizers that octet runs, as a DJL job builds them. */
    private static List<Pair<String, Supplier<Optimizer>>> optimizers() {
        Tracker lr = Tracker.fixed(1e-2f);
        List<Pair<String, Supplier<Optimizer>>> o = new ArrayList<>();
        o.add(new Pair<>("Adam", () -> Optimizer.adam().optLearningRateTracker(Tracker.fixed(1e-3f)).optWeightDecays(1e-2f)
                .optClipGrad(0.5f).build()));
        o.add(new Pair<>("AdamW", () -> Optimizer.adamW().optLearningRateTracker(Tracker.fixed(1e-3f)).build()));
        o.add(new Pair<>("Sgd", () -> Optimizer.sgd().setLearningRateTracker(lr).optMomentum(0.9f).optWeightDecays(1e-4f)
                .build()));
        o.add(new Pair<>("Nag", () -> Optimizer.nag().setLearningRateTracker(lr).setMomentum(0.9f).build()));
        o.add(new Pair<>("RmsProp", () -> Optimizer.rmsprop().optLearningRateTracker(Tracker.fixed(1e-3f)).build()));
        o.add(new Pair<>("RmsProp centered", () -> Optimizer.rmsprop().optLearningRateTracker(Tracker.fixed(1e-3f))
                .optCentered(true).optMomentum(0.9f).build()));
        o.add(new Pair<>("Adagrad", () -> Optimizer.adagrad().optLearningRateTracker(lr).build()));
        o.add(new Pair<>("Adadelta", () -> Optimizer.adadelta().build()));
        return o;
    }

    /** A model of two Linear layers: weights of 77,100 and 2,570 elements (8-bit), biases (float32). */
    private static Model model(Device device, float[][] values) {
        Model m = Model.newInstance("gpu-path-" + device, device);
        SequentialBlock block = new SequentialBlock().add(Linear.builder().setUnits(257).build())
                .add(Linear.builder().setUnits(10).build());
        m.setBlock(block);
        block.initialize(m.getNDManager(), ai.djl.ndarray.types.DataType.FLOAT32, new Shape(4, 300));
        List<Parameter> params = parameters(m);
        for (int i = 0; i < params.size(); i++) {
            NDArray a = params.get(i).getArray();
            if (values[i] == null) {
                values[i] = a.toFloatArray();
            } else {
                a.set(values[i]);
            }
        }
        return m;
    }

    private static List<Parameter> parameters(Model m) {
        List<Parameter> list = new ArrayList<>();
        for (Pair<String, Parameter> p : m.getBlock().getParameters()) {
            list.add(p.getValue());
        }
        return list;
    }

    /** The same gradients for both devices: several magnitudes, signs, some zeros. */
    private static float[][] gradients(Random rnd, List<Parameter> params) {
        float[][] g = new float[params.size()][];
        for (int i = 0; i < g.length; i++) {
            g[i] = new float[Math.toIntExact(params.get(i).getArray().size())];
            for (int j = 0; j < g[i].length; j++) {
                g[i][j] = rnd.nextInt(97) == 0 ? 0f : (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(4) - 2));
            }
        }
        return g;
    }

    /** One optimizer step of every parameter through octet, as DJL's step does (batched on the GPU). */
    private static void octetStep(OctetDjlOptimizer o, Model m, float[][] grads) {
        DjlHooks.stepStarts();
        try (NDManager scratch = m.getNDManager().newSubManager()) {
            List<Parameter> params = parameters(m);
            List<NDArray> created = new ArrayList<>();
            for (int i = 0; i < params.size(); i++) {
                NDArray w = params.get(i).getArray();
                NDArray g = scratch.create(grads[i], w.getShape());
                created.add(g);
                assertTrue(o.update(params.get(i).getId(), g, w, text -> { }), "octet runs " + params.get(i).getName());
                if (w.getDevice().isGpu()) {
                    assertNotNull(o.entries().get(i).gpu, "GPU state for " + params.get(i).getName());
                }
            }
            DjlHooks.stepEnds();
            for (NDArray g : created) {
                float[] left = g.toFloatArray();
                assertArrayEquals(new float[left.length], left, "the gradient is zeroed, as DJL's optimizers leave it");
            }
        }
    }

    @Test
    void theGpuPathEqualsTheCpuPathForEveryOptimizer() {
        for (Pair<String, Supplier<Optimizer>> optimizer : optimizers()) {
            float[][] start = new float[4][];
            try (Model cpu = model(Device.cpu(), start); Model gpu = model(Device.gpu(), start)) {
                OctetDjlOptimizer onCpu = new OctetDjlOptimizer(DjlOptimizerMath.of(optimizer.getValue().get()), cpu);
                OctetDjlOptimizer onGpu = new OctetDjlOptimizer(DjlOptimizerMath.of(optimizer.getValue().get()), gpu);
                onCpu.planIfNeeded(text -> { });
                List<String> report = new ArrayList<>();
                onGpu.planIfNeeded(report::add);
                assertTrue(report.get(0).contains("in GPU memory"), report.get(0));
                Random rnd = new Random(3);
                long codes = 0;
                long differing = 0;
                for (int t = 1; t <= STEPS; t++) {
                    float[][] grads = gradients(rnd, parameters(cpu));
                    octetStep(onCpu, cpu, grads);
                    octetStep(onGpu, gpu, grads);
                    List<Parameter> pc = parameters(cpu);
                    List<Parameter> pg = parameters(gpu);
                    for (int i = 0; i < pc.size(); i++) {
                        float[] a = pc.get(i).getArray().toFloatArray();
                        float[] b = pg.get(i).getArray().toFloatArray();
                        for (int j = 0; j < a.length; j++) {
                            assertTrue(Math.abs(a[j] - b[j]) <= 1e-6, optimizer.getKey() + " step " + t + " "
                                    + pc.get(i).getName() + "[" + j + "]: CPU " + a[j] + ", GPU " + b[j]);
                        }
                    }
                    for (int i = 0; i < pc.size(); i++) {
                        OptimizerState sc = onCpu.entries().get(i).hostState();
                        OptimizerState sg = onGpu.entries().get(i).hostState();
                        assertEquals(sc.getClass(), sg.getClass());
                        if (sc instanceof QuantizedState qc) {
                            QuantizedState qg = (QuantizedState) sg;
                            for (int s = 0; s < qc.statistics(); s++) {
                                for (int j = 0; j < qc.length(); j++) {
                                    int d = Math.abs((qc.codes(s).get(j) & 0xFF) - (qg.codes(s).get(j) & 0xFF));
                                    assertTrue(d <= 1, optimizer.getKey() + " step " + t + " statistic " + s + " code " + j
                                            + " differs by " + d);
                                    codes++;
                                    differing += d;
                                }
                            }
                        }
                    }
                }
                System.err.printf("[octet] DJL %s on the GPU vs the CPU: %d of %d codes one apart, parameters within 1e-6%n",
                        optimizer.getKey(), differing, codes);
            }
        }
    }

    @Test
    void withAFloat32PolicyOctetMatchesDjlsOwnGpuOptimizer() throws Exception {
        Path file = Files.createTempFile("float32", ".yaml");
        Files.writeString(file, "version: 1\ndefaults:\n  bits: 32\n");
        OctetRuntime.install(PolicyParser.parse(file));
        for (Pair<String, Supplier<Optimizer>> optimizer : optimizers().subList(0, 3)) {
            float[][] start = new float[4][];
            try (Model octet = model(Device.gpu(), start); Model djl = model(Device.gpu(), start)) {
                OctetDjlOptimizer o = new OctetDjlOptimizer(DjlOptimizerMath.of(optimizer.getValue().get()), octet);
                o.planIfNeeded(text -> { });
                assertTrue(o.entries().stream().allMatch(e -> e.gpu != null && !e.quantized()));
                Optimizer own = optimizer.getValue().get();
                Random rnd = new Random(5);
                double worst = 0;
                for (int t = 1; t <= STEPS; t++) {
                    float[][] grads = gradients(rnd, parameters(octet));
                    octetStep(o, octet, grads);
                    List<Parameter> pd = parameters(djl);
                    try (NDManager scratch = djl.getNDManager().newSubManager()) {
                        for (int i = 0; i < pd.size(); i++) {
                            NDArray w = pd.get(i).getArray();
                            own.update(pd.get(i).getId(), w, scratch.create(grads[i], w.getShape()));
                        }
                    }
                    List<Parameter> po = parameters(octet);
                    for (int i = 0; i < po.size(); i++) {
                        float[] a = po.get(i).getArray().toFloatArray();
                        float[] b = pd.get(i).getArray().toFloatArray();
                        for (int j = 0; j < a.length; j++) {
                            worst = Math.max(worst, Math.abs(a[j] - b[j]));
                            assertTrue(Math.abs(a[j] - b[j]) <= 1e-6, optimizer.getKey() + " step " + t + " "
                                    + po.get(i).getName() + "[" + j + "]: octet " + a[j] + ", DJL " + b[j]);
                        }
                    }
                }
                System.err.printf("[octet] DJL %s on the GPU, float32 policy: octet vs DJL's own, largest parameter"
                        + " difference %.3g after %d steps%n", optimizer.getKey(), worst, STEPS);
            }
        }
    }

    /**
     * A trainer on two devices (the GPU and the CPU: what one GPU allows), through the hook DJL's
     * {@code LocalParameterServer.update} calls: each copy of a parameter gets its state on its own
     * device; with a float32 policy octet matches DJL's own parameter server and Adam on both copies
     * within 1e-6 (DJL counts each copy's update, and starts a copy's state from the first copy's as
     * it is then: both reproduced); with 8-bit state, where only the storage differs, the mean distance
     * to DJL's float32 result stays under a tenth of the mean distance moved; every copy's gradient is
     * left zeroed.
     */
    @Test
    void aTrainerOnTwoDevicesKeepsStateOnEachAndMatchesDjl() throws Exception {
        trainerOnTwoDevices(Device.cpu());
    }

    /**
     * The same on two GPUs (DJL's {@code gpu(0)} and {@code gpu(1)}): each copy's state in its own GPU's
     * memory, updated by octet's backend on that GPU. Needs a machine with two GPUs.
     */
    @Test
    void aTrainerOnTwoGpusKeepsStateOnEachAndMatchesDjl() throws Exception {
        int gpus = Engine.getEngine("PyTorch").getGpuCount();
        assumeTrue(gpus >= 2 && CudaBackend.deviceCount() >= 2,
                () -> "skipped, needs two GPUs (DJL sees " + gpus + ", the driver " + CudaBackend.deviceCount() + ")");
        trainerOnTwoDevices(Device.gpu(1));
    }

    private void trainerOnTwoDevices(Device second) throws Exception {
        for (int bits : new int[] {32, 8}) {
            Path file = Files.createTempFile("policy", ".yaml");
            Files.writeString(file, "version: 1\ndefaults:\n  bits: " + bits + "\n");
            OctetRuntime.install(PolicyParser.parse(file));
            Supplier<Optimizer> adam = () -> Optimizer.adam().optLearningRateTracker(Tracker.fixed(1e-3f)).build();
            float[][] start = new float[4][];
            try (Model octet = model(Device.gpu(), start); Model djl = model(Device.gpu(), start);
                    NDManager other = NDManager.newBaseManager(second)) {
                Optimizer octetAdam = adam.get();
                DjlHooks.trainerCreated(octet, new ai.djl.training.DefaultTrainingConfig(
                        ai.djl.training.loss.Loss.l2Loss()).optOptimizer(octetAdam));
                ai.djl.training.LocalParameterServer own = new ai.djl.training.LocalParameterServer(adam.get());
                List<Parameter> po = parameters(octet);
                List<Parameter> pd = parameters(djl);
                NDArray[][] copyO = new NDArray[po.size()][];
                NDArray[][] copyD = new NDArray[pd.size()][];
                for (int i = 0; i < po.size(); i++) {
                    copyO[i] = new NDArray[] {po.get(i).getArray(), po.get(i).getArray().toDevice(second, true)};
                    copyD[i] = new NDArray[] {pd.get(i).getArray(), pd.get(i).getArray().toDevice(second, true)};
                    copyO[i][1].attach(other);
                    copyD[i][1].attach(other);
                }
                Random rnd = new Random(13);
                for (int t = 1; t <= 4; t++) {
                    float[][] g0 = gradients(rnd, po);
                    float[][] g1 = gradients(rnd, po);
                    DjlHooks.stepStarts();
                    List<NDArray> octetGrads = new ArrayList<>();
                    for (int i = 0; i < po.size(); i++) {
                        NDArray[] go = {octet.getNDManager().create(g0[i], copyO[i][0].getShape()), other.create(g1[i],
                                copyO[i][1].getShape())};
                        octetGrads.addAll(List.of(go));
                        assertTrue(DjlHooks.update(octetAdam, po.get(i).getId(), go, copyO[i]), "octet runs two devices");
                        NDArray[] gd = {djl.getNDManager().create(g0[i], copyD[i][0].getShape()), other.create(g1[i],
                                copyD[i][1].getShape())};
                        own.update(pd.get(i).getId(), gd, copyD[i]);
                    }
                    DjlHooks.stepEnds();
                    for (NDArray g : octetGrads) {
                        assertArrayEquals(new float[Math.toIntExact(g.size())], g.toFloatArray(), "every copy's gradient zeroed");
                    }
                    double tolerance = bits == 32 ? 1e-6 : Double.MAX_VALUE;
                    for (int i = 0; i < po.size(); i++) {
                        for (int c = 0; c < 2; c++) {
                            float[] a = copyO[i][c].toFloatArray();
                            float[] b = copyD[i][c].toFloatArray();
                            for (int j = 0; j < a.length; j++) {
                                assertTrue(Math.abs(a[j] - b[j]) <= tolerance, bits + "-bit step " + t + " " + po.get(i).getName()
                                        + " on " + copyO[i][c].getDevice() + "[" + j + "]: octet " + a[j] + ", DJL " + b[j]);
                            }
                        }
                    }
                }
                if (bits == 8) {
                    double distance = 0;
                    double moved = 0;
                    for (int i = 0; i < po.size(); i++) {
                        for (int c = 0; c < 2; c++) {
                            float[] a = copyO[i][c].toFloatArray();
                            float[] b = copyD[i][c].toFloatArray();
                            for (int j = 0; j < a.length; j++) {
                                distance += Math.abs(a[j] - b[j]);
                                moved += Math.abs(b[j] - start[i][j]);
                            }
                        }
                    }
                    System.err.printf("[octet] gpu(0) and %s, 8-bit: mean distance to DJL's float32 %.3g of the mean move%n",
                            second, distance / moved);
                    assertTrue(distance < 0.1 * moved, "8-bit on two devices strays from DJL: " + distance / moved);
                }
                OctetDjlOptimizer o = DjlHooks.running(octetAdam);
                for (OctetDjlOptimizer.Entry e : o.entries()) {
                    assertNotNull(e.gpu, e.name + ": state in GPU memory for the GPU copy");
                    OctetDjlOptimizer.Entry copy = e.replicas.get(second);
                    if (second.isGpu()) {
                        assertNotNull(copy.gpu, e.name + ": state in " + second + "'s memory for its copy");
                        assertEquals(second.getDeviceId(), copy.gpu.cuda().deviceOrdinal(), e.name + ": updated on " + second);
                    } else {
                        assertNotNull(copy.state, e.name + ": state in host memory for the CPU copy");
                    }
                }
                System.err.printf("[octet] DJL Adam on two devices (gpu(0) and %s), %d-bit state: each copy's state on its"
                        + " device%s%n", second, bits, bits == 32 ? ", both copies within 1e-6 of DJL's own" : "");
            }
        }
    }

    @Test
    void stateSavedOnTheGpuResumesOnTheCpuAndBackAndBitIdentically(@TempDir Path dir) throws Exception {
        Supplier<Optimizer> adam = optimizers().get(0).getValue();
        float[][] start = new float[4][];
        try (Model gpu = model(Device.gpu(), start); Model cpu = model(Device.cpu(), start);
                Model back = model(Device.gpu(), start)) {
            OctetDjlOptimizer onGpu = new OctetDjlOptimizer(DjlOptimizerMath.of(adam.get()), gpu);
            onGpu.planIfNeeded(text -> { });
            Random rnd = new Random(9);
            for (int t = 1; t <= 3; t++) {
                octetStep(onGpu, gpu, gradients(rnd, parameters(gpu)));
            }
            Path saved = dir.resolve("gpu.params.octet");
            DjlStateFile.write(saved, onGpu);
            OctetDjlOptimizer onCpu = new OctetDjlOptimizer(DjlOptimizerMath.of(adam.get()), cpu);
            onCpu.pendingRestore = saved;
            onCpu.planIfNeeded(text -> { });
            Path again = dir.resolve("cpu.params.octet");
            DjlStateFile.write(again, onCpu);
            assertArrayEquals(Files.readAllBytes(saved), Files.readAllBytes(again), "GPU state read on the CPU, saved again");
            OctetDjlOptimizer backOnGpu = new OctetDjlOptimizer(DjlOptimizerMath.of(adam.get()), back);
            backOnGpu.pendingRestore = again;
            backOnGpu.planIfNeeded(text -> { });
            Path third = dir.resolve("back.params.octet");
            DjlStateFile.write(third, backOnGpu);
            assertArrayEquals(Files.readAllBytes(saved), Files.readAllBytes(third), "CPU state read on the GPU, saved again");
            // Resumed on the GPU (parameters as saved, state restored) = trained straight through, bit for bit.
            List<Parameter> pg = parameters(gpu);
            List<Parameter> pb = parameters(back);
            for (int i = 0; i < pg.size(); i++) {
                pb.get(i).getArray().set(pg.get(i).getArray().toFloatArray());
            }
            for (int t = 4; t <= 6; t++) {
                float[][] grads = gradients(rnd, pg);
                octetStep(onGpu, gpu, grads);
                octetStep(backOnGpu, back, grads);
            }
            for (int i = 0; i < pg.size(); i++) {
                assertArrayEquals(pg.get(i).getArray().toFloatArray(), pb.get(i).getArray().toFloatArray(),
                        "resumed on the GPU: " + pg.get(i).getName());
            }
            DjlStateFile.write(saved, onGpu);
            DjlStateFile.write(third, backOnGpu);
            assertArrayEquals(Files.readAllBytes(saved), Files.readAllBytes(third), "state resumed vs straight through");
        }
    }
}
