package io.cohx.bench;

import io.cohx.coh.train.StepIo;
import io.cohx.coh.train.TrainStep;
import io.cohx.engine.DType;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.engine.optim.AdamW;
import io.cohx.models.CausalLm;
import io.cohx.models.GgufWeights;
import io.cohx.models.generate.Buckets;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Sampling;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.Tokenizers;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtPlugin;
import io.cohx.pjrt.plugins.Plugins;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The real SmolLM2-135M-Instruct (the GGUF file the tests fetch into the cohx test cache, or any
 * LLaMA-family GGUF) on one device of a plugin: KV-cache decode tokens/s at batch 1 and 8 (greedy,
 * exactly 64 new tokens per row after an English prompt, eos does not stop a row), then the CoH train step (feedback + pretraining loss, AdamW, donated state) at
 * sequence length 512, batch 1, starting from the file's weights on real English text: time to the
 * first step (trace + compile + run) and steady step time. One JSON line per measurement; peak RSS
 * with each. There is no competitor in the run: llama.cpp's Python binding builds from source only
 * and is not installed here. Usage: {@code bench/run SmolLm2Bench [FILE.gguf] [train steps after the first; 0: decode only] [f32|bf16]}.
 */
public final class SmolLm2Bench {
    private SmolLm2Bench() {}

    private static final String TEXT = "The history of the city goes back more than two thousand years. It grew up where a road "
            + "crossed the river, and for centuries merchants came to its markets to trade grain, wool and salt. ";

    public static void main(String[] args) throws Exception {
        Path file = args.length > 0 ? Path.of(args[0]) : defaultFile();
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        DType dtype = args.length > 2 && args[2].equals("bf16") ? DType.BF16 : DType.F32;
        String platform = System.getProperty("cohx.platform", "cpu");
        PjrtPlugin plugin = PjrtPlugin.load(Plugins.resolve(platform, null, m -> System.err.println("bench: " + m)).library());
        GgufWeights.Loaded loaded = GgufWeights.load(file);
        CausalLm model = CausalLm.of(loaded.config());
        Tokenizer tok = Tokenizers.fromVocabulary(loaded.tokenizer().vocabulary(), file.toString());
        try (PjrtClient client = platform.equals("cpu") ? PjrtClient.create(plugin, Map.of("cpu_device_count", 1L)) : PjrtClient.create(plugin)) {
            decode(model, loaded.params(), tok, client, platform, 1, dtype);
            decode(model, loaded.params(), tok, client, platform, 8, dtype);
            if (steps > 0) {
                train(model, loaded.params(), tok, client, platform, 512, steps, dtype);
            }
        }
    }

    private static void decode(CausalLm model, Tree<NdArray> params, Tokenizer tok, PjrtClient client, String platform, int batch,
                               DType dtype) {
        int newTokens = 64;
        String[] prompts = {"The capital of France is", "Once upon a time, in a small village,", "The three primary colors are",
                "To make a cup of tea, first", "Water boils at a temperature of", "The largest planet in our solar system is",
                "A good night's sleep helps", "The first thing to know about programming is"};
        // No tokenizer for the generator: no eos ends a row early, so every row makes exactly newTokens tokens.
        try (var gen = new Generator(model, params, null, client, batch, 32 + newTokens, new Buckets(List.of(32)), dtype)) {
            List<Generator.Request> rows = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                rows.add(new Generator.Request(tok.encode(prompts[b % prompts.length]), newTokens, Sampling.GREEDY));
            }
            TimedDecode timed = TimedDecode.run(gen, rows);
            long best = timed.bestNanos();
            long tokens = timed.tokens();
            System.out.printf(Locale.ROOT, "{\"bench\":\"smollm2_decode\",\"platform\":\"%s\",\"dtype\":\"%s\",\"batch\":%d,"
                            + "\"new_tokens_per_row\":%d,\"tokens\":%d,\"seconds\":%.3f,\"tokens_per_s\":%.1f,\"ms_per_step\":%.1f,"
                            + "\"peak_rss_mib\":%.0f}%n", platform, dtype.name().toLowerCase(Locale.ROOT), batch, newTokens, tokens,
                    best / 1e9, tokens / (best / 1e9), best / 1e6 / (newTokens + 1), PeakRss.processPeakMiB());
        }
    }

    private static void train(CausalLm model, Tree<NdArray> params, Tokenizer tok, PjrtClient client, String platform, int seq,
                              int steps, DType dtype) {
        AdamW opt = AdamW.defaults().withDecayMask(model::decays);
        var ts = TrainStep.of(model, opt, s -> {
            if (tok.bosId() >= 0) {
                s.bos = tok.bosId();
            }
            s.ptLossWeight = 0.01;
            s.dtype = dtype;
            s.seed = 42;
        });
        int[] text = tok.encode(TEXT.repeat(1 + 4 * seq / Math.max(1, tok.encode(TEXT).length)));
        float[] masks = new float[seq];
        Arrays.fill(masks, 1);
        var data = new StepIo.Batch<Object>(NdArray.of(Arrays.copyOf(text, seq), 1, 1, seq), NdArray.of(masks, 1, 1, seq));
        long t0 = System.nanoTime();
        try (Jit step = ts.jit("train_step").build(client)) {
            var run = TimedSteps.run(step, params.map(x -> x), opt.init(model.paramTypes()).map(x -> x), data, 1e-5, steps, t0);
            double perStep = run.stepSeconds();
            long tokensPerStep = 2L * seq; // feedback + pretraining batches
            System.out.printf(Locale.ROOT, "{\"bench\":\"smollm2_train_step\",\"platform\":\"%s\",\"dtype\":\"%s\",\"seq\":%d,\"batch\":1,"
                            + "\"time_to_first_step_s\":%.1f,\"step_s\":%.2f,\"tokens_per_s\":%.0f,\"loss_first\":%.4f,\"loss_last\":%.4f,"
                            + "\"steps\":%d,\"peak_rss_mib\":%.0f}%n", platform, dtype.name().toLowerCase(Locale.ROOT), seq, run.firstStepSeconds(),
                    perStep, tokensPerStep / perStep, run.firstLoss(), run.lastLoss(), steps, PeakRss.processPeakMiB());
        }
    }

    private static Path defaultFile() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        Path f = base.resolve("cohx/test-data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
        if (!Files.isRegularFile(f)) {
            System.err.println("SmolLm2Bench: " + f + " is not there; pass a GGUF file, or fetch SmolLM2 with"
                    + " mvn -pl models -am test -Dtest=SmolLm2DequantTest");
            System.exit(2);
        }
        return f;
    }
}
