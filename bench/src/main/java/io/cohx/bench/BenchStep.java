package io.cohx.bench;

import io.cohx.coh.train.TrainStep;
import io.cohx.engine.ArrayType;
import io.cohx.engine.DType;
import io.cohx.engine.RematPolicy;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.MemoryReport;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.engine.optim.AdamW;
import io.cohx.engine.optim.LrSchedule;
import io.cohx.models.CausalLm;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.pjrt.PjrtClient;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * cohx's CoH train step (feedback + 0.01 × pretraining loss, AdamW with the original's defaults
 * and schedule, donated state) of a LLaMA shape on one device, compiled once, its state kept on
 * the device between calls; the batches are seeded random tokens, masks all ones. Shared by the
 * benchmarks that time or size the step.
 */
final class BenchStep implements AutoCloseable {

    /** A LLaMA shape with vocabulary 32000. */
    record Shape(String name, int hidden, int intermediate, int layers, int heads) {
        static final Shape DEBUG = new Shape("debug", 256, 688, 4, 4);
        static final Shape M125 = new Shape("125m", 768, 2048, 12, 12);
        /** ~1.1B parameters (TinyLlama-like widths, full attention heads): the GPU check's size. */
        static final Shape B1 = new Shape("1b", 2048, 5632, 22, 32);

        /** {@code debug}, {@code 125m}, {@code 1b} or {@code both} (debug and 125m). */
        static List<Shape> named(String which) {
            return switch (which) {
                case "debug" -> List.of(DEBUG);
                case "125m" -> List.of(M125);
                case "1b" -> List.of(B1);
                case "both" -> List.of(DEBUG, M125);
                default -> throw new IllegalArgumentException("config '" + which + "': use debug, 125m, 1b or both");
            };
        }

        /**
         * Model FLOPs of one token's training step (forward and backward, recomputation not
         * counted): 6 per weight of the matrix products (the embedding lookup has none) plus the
         * attention's 12 · layers · hidden · seq (scores and weighted values).
         */
        double flopsPerToken(int seq) {
            double perLayer = 4.0 * hidden * hidden + 3.0 * hidden * intermediate;
            double matmulWeights = layers * perLayer + (double) hidden * 32000;
            return 6 * matmulWeights + 12.0 * layers * hidden * seq;
        }

        ModelConfig config(int seq) {
            return ModelConfigs.resolve("debug", "llama").withUpdates(Map.of("hidden_size", hidden, "intermediate_size", intermediate,
                    "num_hidden_layers", layers, "num_attention_heads", heads, "vocab_size", 32000,
                    "max_sequence_length", Math.max(2048, seq)), "bench " + name);
        }
    }

    final long params;
    final Jit step;
    final Tree<ArrayType> types;
    private Tree<Object> state;
    private final NdArray hfTokens, ptTokens, masks;
    /** The original's AdamW schedule with its defaults, as the JAX side's optax schedule. */
    private final LrSchedule schedule = LrSchedule.warmupCosine(0, 0.01, 2000, 500000, 0.001);
    double loss;
    private int stepNo;
    long cpuNanos;

    BenchStep(Shape shape, int seq, int batch, DType dtype, TrainStep.Memory memory, PjrtClient client) {
        ModelConfig mc = shape.config(seq);
        CausalLm model = CausalLm.of(mc);
        params = model.paramTypes().values().stream().mapToLong(t -> t.shape().size()).sum();
        AdamW adamw = AdamW.defaults().withDecayMask(model::decays);
        var ts = TrainStep.of(model, adamw, s -> {
            s.bos = 1;
            s.ptLossWeight = 0.01;
            s.dtype = dtype;
            s.seed = 42;
            s.remat = memory.remat() != RematPolicy.EVERYTHING_SAVEABLE;
            s.rematPolicy = memory.remat();
            s.lossChunk = memory.lossChunk();
            s.attentionChunk = memory.attentionChunk();
        });
        try (Jit init = Jit.builder("init", ts.initFunction()).build(client)) {
            Tree<DeviceArray> p = init.call(Tree.empty());
            state = Tree.<Object>empty().nest("params", p).nest("opt", adamw.init(model.paramTypes()));
        }
        step = Jit.builder("train_step", ts.function()).donate("params", "opt").build(client);
        var rnd = new Random(42);
        hfTokens = tokens(rnd, batch, seq);
        ptTokens = tokens(rnd, batch, seq);
        float[] m = new float[batch * seq];
        Arrays.fill(m, 1f);
        masks = NdArray.of(m, 1, batch, seq);
        types = Tree.<ArrayType>empty().nest("params", model.paramTypes())
                .nest("opt", adamw.stateTypes(model.paramTypes()))
                .with("hf.tokens", hfTokens.type()).with("hf.masks", masks.type())
                .with("pt.tokens", ptTokens.type()).with("pt.masks", masks.type())
                .with("lr", ArrayType.of(DType.F32)).with("step", ArrayType.of(DType.S32));
    }

    private static NdArray tokens(Random rnd, int batch, int seq) {
        int[] t = new int[batch * seq];
        for (int i = 0; i < t.length; i++) {
            t[i] = rnd.nextInt(32000);
        }
        return NdArray.of(t, 1, batch, seq);
    }

    /** Runs {@code n} steps; the seconds of each, loss read back to the host as the trainer does. */
    List<Double> steps(int n) {
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        var times = new ArrayList<Double>();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            Tree<Object> in = state.with("hf.tokens", hfTokens).with("hf.masks", masks).with("pt.tokens", ptTokens)
                    .with("pt.masks", masks).with("lr", NdArray.scalar(DType.F32, schedule.at(stepNo)))
                    .with("step", NdArray.scalar(DType.S32, stepNo++));
            Tree<DeviceArray> out = step.call(in);
            loss = out.get("metrics.hf_loss").toHost().get(0);
            out.subtree("metrics").values().forEach(DeviceArray::close);
            state = Tree.<Object>empty().nest("params", out.subtree("params")).nest("opt", out.subtree("opt"));
            times.add((System.nanoTime() - t0) / 1e9);
        }
        cpuNanos += os.getProcessCpuTime() - cpu0;
        return times;
    }

    /** The compiled step's memory figures (compiling it if it is not yet). */
    MemoryReport memory() {
        return step.memoryReport(types);
    }

    @Override
    public void close() {
        state.values().forEach(x -> {
            if (x instanceof DeviceArray d) {
                d.close();
            }
        });
        step.close();
    }

    static double median(List<Double> xs) {
        var s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
