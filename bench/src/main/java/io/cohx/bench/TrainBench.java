package io.cohx.bench;

import io.cohx.coh.train.StepIo;
import io.cohx.coh.train.TrainStep;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.engine.optim.AdamW;
import io.cohx.models.CausalLm;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtPlugin;
import io.cohx.pjrt.plugins.Plugins;

import java.io.IOException;
import java.util.Map;
import java.util.Random;

/**
 * The compiled CoH train step (feedback + pretraining loss, AdamW, donated state) of a LLaMA:
 * time to the first step (trace + compile + run), steady-state step time and tokens/s, and peak
 * RSS, one JSON line per model. Usage: {@code bench/run TrainBench [debug|125m|both] [seq] [batch] [steps] [dtype]}.
 */
public final class TrainBench {
    public static void main(String[] args) throws IOException {
        String which = args.length > 0 ? args[0] : "both";
        int seq = args.length > 1 ? Integer.parseInt(args[1]) : 512;
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        DType dtype = args.length > 4 && args[4].equals("bf16") ? DType.BF16 : DType.F32;
        PjrtPlugin plugin = PjrtPlugin.load(Plugins.resolve(System.getProperty("cohx.platform", "cpu"), null,
                m -> System.err.println("bench: " + m)).library());
        try (PjrtClient client = PjrtClient.create(plugin, plugin.path().toString().contains("cpu") ? Map.of("cpu_device_count", 1L) : Map.of())) {
            if (!which.equals("125m")) {
                run("llama-debug", ModelConfigs.resolve("debug", "llama"), client, seq, batch, steps, dtype);
            }
            if (!which.equals("debug")) {
                ModelConfig c = ModelConfigs.resolve("debug", "llama").withUpdates(Map.of("hidden_size", 768, "intermediate_size", 2048,
                        "num_hidden_layers", 12, "num_attention_heads", 12), "TrainBench");
                run("llama-125m", c, client, seq, batch, steps, dtype);
            }
        }
    }

    static void run(String name, ModelConfig mc, PjrtClient client, int seq, int batch, int steps, DType dtype) throws IOException {
        CausalLm model = CausalLm.of(mc);
        long nParams = model.paramTypes().values().stream().mapToLong(t -> t.shape().size()).sum();
        AdamW opt = AdamW.defaults().withDecayMask(model::decays);
        var ts = TrainStep.of(model, opt, s -> {
            s.bos = 1;
            s.ptLossWeight = 0.01;
            s.dtype = dtype;
            s.seed = 42;
        });
        var rnd = new Random(1);
        int[] tokens = new int[batch * seq];
        float[] masks = new float[batch * seq];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rnd.nextInt(mc.vocabSize());
            masks[i] = 1;
        }
        var data = new StepIo.Batch<Object>(NdArray.of(tokens, 1, batch, seq), NdArray.of(masks, 1, batch, seq));
        long t0 = System.nanoTime();
        Tree<DeviceArray> params;
        try (Jit init = Jit.builder("init", ts.initFunction()).build(client)) {
            params = init.call(Tree.empty());
        }
        try (Jit step = ts.jit("train_step").build(client)) {
            var run = TimedSteps.run(step, params.map(x -> x), opt.init(model.paramTypes()).map(x -> x), data, 1e-4, steps, t0);
            double perStep = run.stepSeconds();
            long tokensPerStep = 2L * batch * seq; // feedback + pretraining batches
            System.out.printf("{\"bench\":\"train_step\",\"model\":\"%s\",\"params\":%d,\"dtype\":\"%s\",\"seq\":%d,\"batch\":%d,"
                            + "\"time_to_first_step_s\":%.2f,\"step_s\":%.3f,\"tokens_per_s\":%.0f,\"peak_rss_mib\":%.0f,\"loss\":%.4f}%n",
                    name, nParams, dtype.name().toLowerCase(), seq, batch, run.firstStepSeconds(), perStep, tokensPerStep / perStep, PeakRss.processPeakMiB(), run.lastLoss());
        }
    }
}
