package io.cohx.coh.train;

import io.cohx.coh.data.FeedbackDataset;
import io.cohx.coh.data.PackJob;
import io.cohx.coh.data.PackOptions;
import io.cohx.coh.data.SampleData;
import io.cohx.coh.observe.MetricsLog;
import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.config.ModelConfigs;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training loop end to end on the real CPU plugin with tiny LLaMA / GPT-J configs and the bundled sample data. */
class TrainerTest {
    @TempDir
    static Path data;
    static Path train;
    static Path pretrain;

    static final String TINY_LLAMA = "hidden_size=32,intermediate_size=64,num_hidden_layers=1,num_attention_heads=2,vocab_size=50257";
    static final String TINY_GPTJ = "n_embd=32,n_layer=1,n_head=2,rotary_dim=8";

    @BeforeAll
    static void packSampleData() {
        packInto(data);
    }

    /** Packs the bundled sample feedback into {@code data}; sets {@link #train} and {@link #pretrain}. */
    static void packInto(Path data) {
        var options = PackOptions.defaults();
        var req = new PackJob.Request(List.of(FeedbackDataset.DIALOGUE),
                Map.of(FeedbackDataset.DIALOGUE, SampleData.dialogueInputs(data.resolve("samples"))), options, data.resolve("packed"), false, null);
        new PackJob(req, new PrintStream(new ByteArrayOutputStream())).run();
        train = data.resolve("packed").resolve(PackJob.trainFile(options.feedback().text()));
        pretrain = data.resolve("samples").resolve(SampleData.PRETRAIN);
    }

    static TrainConfig config(String model, String update, String tokenizer, Path out, long steps, int batch, int accumulate,
                              String dtype, double lr, double ptWeight, boolean resume, long saveFreq) {
        return TrainConfig.of(c -> {
            c.model = model;
            c.updateModelConfig = update;
            c.tokenizer = tokenizer;
            c.trainData = List.of(train);
            c.ptTrainData = List.of(pretrain);
            c.seqLength = 32;
            c.batchSize = batch;
            c.ptLossWeight = ptWeight;
            c.lr = lr;
            c.endLr = lr / 10;
            c.lrWarmupSteps = 2L;
            c.lrDecaySteps = 200;
            c.accumulateGradientSteps = accumulate;
            c.dtype = dtype;
            c.totalSteps = steps;
            c.logFreq = 1;
            c.saveModelFreq = saveFreq;
            c.seed = 7;
            c.outputDir = out;
            c.resume = resume;
        });
    }

    static TrainConfig llama(Path out, long steps, boolean resume) {
        return config("llama", TINY_LLAMA, "gpt2", out, steps, 2, 1, "fp32", 3e-3, 0.01, resume, 0);
    }

    static Trainer.Result run(TrainConfig cfg, Long stopAfter) throws IOException {
        var sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        return new Trainer(cfg, TestPlugins.cpuClient(1), sink).run(stopAfter);
    }

    static List<MetricsLog.Record> metrics(Path out) throws IOException {
        return MetricsLog.read(out.resolve("metrics.jsonl"));
    }

    @Test
    void stopAndResumeIsBitIdenticalToOneRun(@TempDir Path dir) throws IOException {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        var whole = run(llama(a, 6, false), null);
        var first = run(llama(b, 6, false), 3L);
        assertTrue(first.stoppedBySignal());
        assertEquals(3, first.step());
        var rest = run(llama(b, 6, true), null);
        assertEquals(6, rest.step());
        byte[] pa = Files.readAllBytes(whole.checkpoint().resolve("params.safetensors"));
        byte[] pb = Files.readAllBytes(rest.checkpoint().resolve("params.safetensors"));
        assertArrayEquals(pa, pb, "params after 6 steps equal a 3+3 resumed run, bit for bit");
        assertArrayEquals(Files.readAllBytes(whole.checkpoint().resolve(TrainCheckpoint.OPT_FILE)),
                Files.readAllBytes(rest.checkpoint().resolve(TrainCheckpoint.OPT_FILE)));
        var ma = metrics(a);
        var mb = metrics(b);
        assertEquals(6, ma.size());
        assertEquals(ma.stream().map(MetricsLog.Record::step).toList(), mb.stream().map(MetricsLog.Record::step).toList());
        for (int i = 0; i < ma.size(); i++) {
            for (String k : List.of("hf_loss", "pt_loss", "hf_accuracy", "gradient_norm", "param_norm", "learning_rate")) {
                assertEquals(ma.get(i).get(k), mb.get(i).get(k), "step " + ma.get(i).step() + " " + k);
            }
        }
        assertTrue(Files.isRegularFile(a.resolve("loss.png")));
        assertTrue(Files.isRegularFile(a.resolve("config.json")));
    }

    @ParameterizedTest
    @CsvSource({"llama, fp32", "llama, bf16", "gptj, fp32", "gptj, bf16"})
    void lossFallsOnTheSampleData(String model, String dtype, @TempDir Path out) throws IOException {
        var cfg = model.equals("llama")
                ? config("llama", TINY_LLAMA, "gpt2", out, 24, 4, 1, dtype, 1e-2, 0.01, false, 0)
                : config("gptj", TINY_GPTJ, "gptj", out, 24, 4, 1, dtype, 1e-2, 0.01, false, 0);
        run(cfg, null);
        var m = metrics(out);
        double start = m.getFirst().get("hf_loss");
        double end = (m.get(m.size() - 1).get("hf_loss") + m.get(m.size() - 2).get("hf_loss") + m.get(m.size() - 3).get("hf_loss")) / 3;
        assertTrue(start > 10, model + " " + dtype + " starts near ln(vocab): " + start);
        assertTrue(end < start - 3, model + " " + dtype + ": loss went from " + start + " to " + end);
    }

    @Test
    void accumulatingFourMicroBatchesEqualsOneBatchFourTimesLarger(@TempDir Path dir) throws IOException {
        var acc = run(config("llama", TINY_LLAMA, "gpt2", dir.resolve("acc"), 1, 1, 4, "fp32", 1e-3, 0.01, false, 0), null);
        var big = run(config("llama", TINY_LLAMA, "gpt2", dir.resolve("big"), 1, 4, 1, "fp32", 1e-3, 0.01, false, 0), null);
        assertEquals(big.lastMetrics().get("hf_loss"), acc.lastMetrics().get("hf_loss"), 1e-5);
        assertEquals(big.lastMetrics().get("gradient_norm"), acc.lastMetrics().get("gradient_norm"), 1e-5);
        var pa = TrainCheckpoint.load(acc.checkpoint(), false).params();
        var pb = TrainCheckpoint.load(big.checkpoint(), false).params();
        for (String p : pa.paths()) {
            double[] x = pa.get(p).toDoubleArray(), y = pb.get(p).toDoubleArray();
            for (int i = 0; i < x.length; i++) {
                assertEquals(y[i], x[i], 1e-6, p + "[" + i + "]");
            }
        }
    }

    @Test
    void nonFiniteLossStopsAndKeepsTheLastGoodCheckpoint(@TempDir Path out) throws IOException {
        var cfg = config("llama", TINY_LLAMA, "gpt2", out, 6, 2, 1, "fp32", 1e30, 0.01, false, 1);
        var e = assertThrows(TrainingException.class, () -> run(cfg, null));
        assertTrue(e.getMessage().contains("is NaN") || e.getMessage().contains("is Infinity"), e.getMessage());
        assertTrue(e.getMessage().contains("is untouched"), e.getMessage());
        Path latest = TrainCheckpoint.latest(out);
        var loaded = TrainCheckpoint.load(latest, true);
        assertTrue(loaded.step() >= 1);
        for (var p : loaded.params().values()) {
            for (double v : p.toDoubleArray()) {
                assertTrue(Double.isFinite(v), "the saved checkpoint holds only finite values");
            }
        }
    }

    @Test
    void crashDuringACheckpointWriteLeavesThePreviousOneLoadable(@TempDir Path out) throws IOException {
        var r = run(config("llama", TINY_LLAMA, "gpt2", out, 2, 2, 1, "fp32", 1e-3, 0.01, false, 1), null);
        Path root = out.resolve("checkpoints");
        // What a kill -9 in the middle of the next save leaves: a half-written temporary folder, LATEST unchanged.
        Path half = Files.createDirectories(root.resolve(".step_3.tmp-12345"));
        Files.write(half.resolve("params.safetensors"), new byte[100]);
        assertEquals(r.checkpoint(), TrainCheckpoint.latest(out));
        var loaded = TrainCheckpoint.load(TrainCheckpoint.latest(out), true);
        assertEquals(2, loaded.step());
        Path step2 = copyTree(root.resolve("step_2"), out.resolve("step_2.copy"));
        // And the run resumes from it, removing the half-written folder first.
        var resumed = run(llama(out, 3, true), null);
        assertEquals(3, resumed.step());
        assertFalse(Files.exists(half), "the interrupted save's temporary folder is removed at the next start");

        // A kill after step_3's rename but before LATEST's update (and the pruning of step_2):
        // step_3 is complete, LATEST still names step_2. The newest complete checkpoint wins.
        copyTree(step2, root.resolve("step_2"));
        Files.writeString(root.resolve(TrainCheckpoint.LATEST), "step_2\n");
        assertEquals(root.resolve("step_3"), TrainCheckpoint.latest(out));
        var log = new ByteArrayOutputStream();
        var again = new Trainer(llama(out, 4, true), TestPlugins.cpuClient(1), new PrintStream(log, true, StandardCharsets.UTF_8)).run();
        assertEquals(4, again.step());
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("resuming from " + root.resolve("step_3") + " at step 3"),
                log.toString(StandardCharsets.UTF_8));
    }

    private static Path copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }

    /** fp16 without loss scaling would lose small gradients: refused before anything compiles, pointing at bf16. */
    @Test
    void fp16TrainingIsRefusedWithTheReason(@TempDir Path out) {
        var e = assertThrows(TrainingException.class,
                () -> run(config("llama", TINY_LLAMA, "gpt2", out, 1, 2, 1, "fp16", 1e-3, 0.01, false, 0), null));
        assertTrue(e.getMessage().startsWith("--dtype fp16: cohx train does not train in fp16") && e.getMessage().contains("use bf16"),
                e.getMessage());
        assertFalse(Files.exists(out.resolve("config.json")), "nothing of a run is written");
    }

    @Test
    void startingOverAnExistingRunOrResumingNothingIsRefused(@TempDir Path out) throws IOException {
        var e = assertThrows(TrainingException.class, () -> run(llama(out, 1, true), null));
        assertTrue(e.getMessage().contains("has no checkpoint yet"), e.getMessage());
        run(llama(out, 1, false), null);
        var e2 = assertThrows(TrainingException.class, () -> run(llama(out, 2, false), null));
        assertTrue(e2.getMessage().contains("already holds a training run") && e2.getMessage().contains("--resume"), e2.getMessage());
        var badVocab = config("llama", "hidden_size=32,intermediate_size=64,num_hidden_layers=1,num_attention_heads=2", "gpt2",
                out.resolve("v"), 1, 2, 1, "fp32", 1e-3, 0.01, false, 0);
        var e3 = assertThrows(TrainingException.class, () -> run(badVocab, null));
        assertTrue(e3.getMessage().contains("has 50257 ids but the model's vocab_size is 32000"), e3.getMessage());
        assertFalse(Files.exists(out.resolve("v").resolve("checkpoints")));
        assertThrows(CheckpointException.class, () -> TrainCheckpoint.load(out.resolve("nope"), false));
    }

    /**
     * {@code --no-cross-example-attention}: the trainer asks the packer for segment ids and feeds
     * them through the train and eval steps (feedback and pretraining), so the losses are not those
     * of a run without it (runs are bit-reproducible, so any difference is the segment ids'; at
     * initialization predictions are nearly uniform, so the difference is small); the option is
     * recorded; a run cannot resume with the other setting.
     */
    @Test
    void noCrossExampleAttentionFeedsSegmentIdsThroughTheSteps(@TempDir Path dir) throws IOException {
        String gqa = TINY_LLAMA.replace("num_attention_heads=2", "num_attention_heads=4,num_key_value_heads=2");
        java.util.function.BiFunction<Path, Boolean, TrainConfig> cfg = (out, isolated) ->
                config("llama", gqa, "gpt2", out, 2, 2, 1, "fp32", 3e-3, 0.01, false, 0).with(c -> {
                    c.evalData = List.of(train);
                    c.ptEvalData = List.of(pretrain);
                    c.evalSteps = 1;
                    c.noCrossExampleAttention = isolated;
                });
        run(cfg.apply(dir.resolve("cross"), false), null);
        var isolated = run(cfg.apply(dir.resolve("isolated"), true), null);
        var cross = metrics(dir.resolve("cross"));
        var own = metrics(dir.resolve("isolated"));
        assertEquals(cross.stream().map(r -> r.step() + r.split()).toList(), own.stream().map(r -> r.step() + r.split()).toList());
        assertEquals(4, own.size(), "train and eval records of 2 steps");
        // The first pretraining line (~60 tokens, every token in the loss) ends inside the first batch, so the
        // first train and eval pt_loss move. The feedback steps take hf.segments the same way (the step
        // reads them, so a run without them would fail), but in these two steps every new feedback example
        // opens with its masked prompt, so the feedback loss cannot show it (PackedExamplesStepTest does).
        for (int i = 0; i < 2; i++) {
            assertNotEquals(cross.get(i).get("pt_loss"), own.get(i).get("pt_loss"), own.get(i).split()
                    + " pt_loss of step 1 changes when examples stop attending to each other");
        }
        assertTrue(Files.readString(dir.resolve("isolated/config.json")).contains("\"no_cross_example_attention\" : true"));
        // The run's config.json says its model_type and is itself a model config (e.g. for cohx convert --model-config).
        Path runConfig = dir.resolve("isolated/config.json");
        assertEquals("llama", ModelConfigs.readMap(runConfig).get("model_type"));
        assertEquals(TrainCheckpoint.load(isolated.checkpoint(), false).config(), ModelConfigs.resolve(runConfig.toString(), null));
        var e = assertThrows(io.cohx.coh.data.DataException.class,
                () -> run(config("llama", gqa, "gpt2", dir.resolve("isolated"), 3, 2, 1, "fp32", 3e-3, 0.01, true, 0), null));
        assertTrue(e.getMessage().contains("segment ids on; resume with the same setting"), e.getMessage());
        assertEquals(2, isolated.step());
    }
}
