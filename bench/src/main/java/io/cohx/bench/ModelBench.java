package io.cohx.bench;

import io.cohx.engine.Autodiff;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Rng;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.models.CausalLm;
import io.cohx.models.ForwardOptions;
import io.cohx.models.LmLoss;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.params.ParamTree;
import io.cohx.pjrt.PjrtClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * Training-step speed and memory of the real LLaMA model (io.cohx.models) on the CPU plugin: one
 * step is forward, backward (loss of docs/COH.md#loss) and an SGD update of the donated parameters.
 * Prints one JSON line per model: compile time (first call), median and best warm step time,
 * tokens per second, parameter count and the process's peak RSS.
 * Usage: {@code bench/run ModelBench [debug|125m|all] [batch] [seq] [steps] [f32|bf16] [remat]}.
 */
public final class ModelBench {
    private ModelBench() {}

    public static void main(String[] args) {
        String which = args.length > 0 ? args[0] : "all";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        int seq = args.length > 2 ? Integer.parseInt(args[2]) : 512;
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        DType dtype = args.length > 4 && args[4].equals("bf16") ? DType.BF16 : DType.F32;
        boolean remat = args.length > 5 && args[5].equals("remat");
        if (which.equals("debug") || which.equals("all")) {
            run("llama-debug", LlamaConfig.preset("debug"), batch, seq, steps, dtype, remat);
        }
        if (which.equals("125m") || which.equals("all")) {
            run("llama-125m", llama125m(), batch, seq, steps, dtype, remat);
        }
    }

    /** A ~125M-parameter LLaMA (GPT-3 Small widths with LLaMA's SwiGLU and vocabulary). */
    static LlamaConfig llama125m() {
        return LlamaConfig.preset("debug").withUpdates(Map.of("hidden_size", 768, "num_hidden_layers", 12,
                "num_attention_heads", 12, "intermediate_size", 2048), "the 125m bench model");
    }

    static void run(String name, LlamaConfig config, int batch, int seq, int steps, DType dtype, boolean remat) {
        PjrtClient client = CpuClients.of(1);
        CausalLm lm = CausalLm.of(config);
        var options = new ForwardOptions(dtype, false, null, 0, 0, remat);
        Random r = new Random(1);
        int[] tokens = new int[batch * seq];
        Arrays.setAll(tokens, i -> r.nextInt(config.vocabSize()));
        double[] ones = new double[batch * seq];
        Arrays.fill(ones, 1);
        Tree<Object> data = Tree.of("tokens", NdArray.of(tokens, batch, seq), "masks", NdArray.of(DType.F32, ones, batch, seq));

        long t0 = System.nanoTime();
        Tree<DeviceArray> params;
        try (Jit init = Jit.builder(name + "_init", t -> lm.init(t.get("key"))).build(client)) {
            params = init.call(Tree.of("key", Rng.keyData(0)));
        }
        long t1 = System.nanoTime();
        Jit step = Jit.builder(name + "_step", t -> {
            Tensor tok = t.get("tokens");
            Tensor ids = LmLoss.shiftRight(tok, config.bosTokenId());
            var vg = Autodiff.valueAndGrad(p -> LmLoss.of(lm.logits(p, ids, options), tok, t.get("masks")).loss(),
                    t.subtree("params"));
            return Tree.of("loss", vg.value()).nest("params", t.subtree("params").zip(vg.grad(), (w, g) -> w.sub(g.mul(1e-3))));
        }).donate("params").build(client);
        Tree<Object> state = data.nest("params", params);
        long[] times = new long[steps + 1];
        double firstLoss = 0;
        double lastLoss = 0;
        for (int i = 0; i <= steps; i++) {
            long s0 = System.nanoTime();
            Tree<DeviceArray> out = step.call(state);
            double loss = out.get("loss").toHost().get(0);
            times[i] = System.nanoTime() - s0;
            out.get("loss").close();
            state = state.nest("params", out.subtree("params"));
            if (i == 0) {
                firstLoss = loss;
            }
            lastLoss = loss;
        }
        long[] warm = Arrays.copyOfRange(times, 1, times.length);
        Arrays.sort(warm);
        double median = warm.length == 0 ? Double.NaN : warm[warm.length / 2] / 1e9;
        double best = warm.length == 0 ? Double.NaN : warm[0] / 1e9;
        System.out.printf("{\"bench\":\"model.train_step\",\"model\":\"%s\",\"params\":%d,\"batch\":%d,\"seq\":%d,\"dtype\":\"%s\","
                        + "\"remat\":%b,\"init_s\":%.2f,\"first_step_s\":%.2f,\"median_step_s\":%.3f,\"best_step_s\":%.3f,"
                        + "\"tokens_per_s\":%.1f,\"loss_first\":%.4f,\"loss_last\":%.4f,\"warm_steps\":%d,\"peak_rss_mib\":%d}%n",
                name, ParamTree.of(config).numel(), batch, seq, dtype.toString().toLowerCase(java.util.Locale.ROOT), remat,
                (t1 - t0) / 1e9, times[0] / 1e9, median, best, batch * seq / median, firstLoss, lastLoss, warm.length,
                peakRssKiB() / 1024);
        state.subtree("params").values().forEach(v -> ((DeviceArray) v).close());
        step.close();
    }

    /** The process's peak resident set (VmHWM), in KiB; -1 where /proc is not there. */
    static long peakRssKiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }
}
