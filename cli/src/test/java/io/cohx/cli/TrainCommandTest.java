package io.cohx.cli;

import io.cohx.coh.data.SampleData;
import io.cohx.coh.train.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.cohx.cli.PluginsCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cohx train} through the real command line: a short run, a config file, and bad input. */
class TrainCommandTest {

    @Test
    void shortRunFromAConfigFileWithAFlagOverride(@TempDir Path dir) throws IOException {
        Path pretrain = SampleData.copyTo(dir.resolve("samples")).get(2);
        String line = "{\"marker_user\": \"User:\", \"human_0\": \"How do I boil an egg?\", \"marker_gpt\": \"A helpful answer:\","
                + " \"gpt_1\": \"Put it in boiling water for nine minutes.\", \"fields\": \"[marker_user+human_0+marker_gpt],gpt_1,<|eos|>\"}\n";
        Path feedback = Files.writeString(dir.resolve("feedback.jsonl"), line.repeat(40));
        Path cfg = Files.writeString(dir.resolve("train.json"), """
                {"model": "llama", "update_model_config": "hidden_size=32,intermediate_size=64,num_hidden_layers=1,num_attention_heads=4,num_key_value_heads=2,vocab_size=50257",
                 "tokenizer": "gpt2", "total_steps": 50, "seq_length": 32, "batch_size": 2, "log_freq": 1, "no_cross_example_attention": true,
                 "lr": 0.001, "lr_warmup_steps": 1, "lr_decay_steps": 10}
                """);
        Path out = dir.resolve("run");
        var r = run("train", "--config", cfg.toString(), "--total-steps", "2", "--train-data", feedback.toString(),
                "--pt-train-data", pretrain.toString(), "--eval-data", feedback.toString(), "--pt-eval-data", pretrain.toString(),
                "--eval-steps", "1", "--log-freq", "2", "--output-dir", out.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("finished at step 2"), r.out());
        var lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(2, lines.size(), "the flag (2 steps, log every 2) won over the file (50 steps, log every 1): " + lines);
        assertTrue(lines.get(1).contains("\"split\":\"eval\"") && lines.get(1).contains("hf_loss") && lines.get(1).contains("pt_loss"),
                "eval ran on both eval sets: " + lines.get(1));
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"total_steps\" : 2"));
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"no_cross_example_attention\" : true"));
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"num_key_value_heads\" : 2"));
        // Feedback data without a "fields" key is an error naming the file.
        var bad = run("train", "--config", cfg.toString(), "--total-steps", "1", "--train-data", pretrain.toString(),
                "--output-dir", dir.resolve("bad").toString());
        assertEquals(2, bad.rc(), bad.out() + bad.err());
        assertTrue(bad.err().contains(SampleData.PRETRAIN), bad.err());
    }

    /** The original's palm optimizer warms up 10000 steps with b2 0.99, adamw 2000 with 0.95; flags still win. */
    @Test
    void warmupAndB2DefaultToTheChosenOptimizers() {
        TrainConfig adamw = parsed();
        assertEquals(2000, adamw.lrWarmupSteps());
        assertEquals(0.95, adamw.b2());
        TrainConfig palm = parsed("--optimizer", "palm");
        assertEquals(10000, palm.lrWarmupSteps());
        assertEquals(0.99, palm.b2());
        TrainConfig set = parsed("--optimizer", "palm", "--lr-warmup-steps", "5", "--b2", "0.9");
        assertEquals(5, set.lrWarmupSteps());
        assertEquals(0.9, set.b2());
        var help = run("train", "--help");
        assertTrue(help.out().replaceAll("\\s+", " ").contains("default: 2000 for adamw, 10000 for palm"), help.out());
    }

    private static TrainConfig parsed(String... flags) {
        var args = new java.util.ArrayList<>(java.util.List.of("train", "--train-data", "x.jsonl", "--tokenizer", "gpt2"));
        args.addAll(java.util.List.of(flags));
        var parsed = Main.commandLine().parseArgs(args.toArray(String[]::new));
        return ((TrainCommand) parsed.subcommand().commandSpec().userObject()).toConfig();
    }

    @Test
    void sigtermFinishesTheStepSavesAndExitsZero(@TempDir Path dir) throws Exception {
        String line = "{\"marker_user\": \"User:\", \"human_0\": \"Hi\", \"marker_gpt\": \"A helpful answer:\","
                + " \"gpt_1\": \"Hello, how can I help?\", \"fields\": \"[marker_user+human_0+marker_gpt],gpt_1,<|eos|>\"}\n";
        Path feedback = Files.writeString(dir.resolve("feedback.jsonl"), line.repeat(40));
        Path out = dir.resolve("run");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var pb = new ProcessBuilder(javaBin, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "io.cohx.cli.Main",
                "train", "--tokenizer", "gpt2", "--train-data", feedback.toString(), "--total-steps", "100000", "--seq-length", "16",
                "--batch-size", "1", "--log-freq", "1", "--output-dir", out.toString(),
                "--update-model-config", "hidden_size=16,intermediate_size=32,num_hidden_layers=1,num_attention_heads=2,vocab_size=50257")
                .redirectErrorStream(true);
        pb.environment().put("PJRT_NPROC", "16");
        Process p = pb.start();
        var reader = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
        var seen = new StringBuilder();
        String l;
        while ((l = reader.readLine()) != null) {
            seen.append(l).append('\n');
            if (l.startsWith("step 3/")) {
                p.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
                break;
            }
        }
        String rest = String.join("\n", reader.lines().toList());
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "stopped in time");
        assertEquals(0, p.exitValue(), seen + rest);
        assertTrue(rest.contains("stopped at step"), seen + rest);
        Path latest = out.resolve("checkpoints").resolve(Files.readString(out.resolve("checkpoints").resolve("LATEST")).strip());
        assertTrue(Files.isRegularFile(latest.resolve("manifest.json")) && Files.isRegularFile(latest.resolve("opt_state.safetensors")));
    }

    @Test
    void dryRunPrintsPerDeviceMemoryForTheMesh() {
        var r = run("train", "--dry-run", "--mesh-dim", "1,8,1", "--batch-size", "8", "--seq-length", "32",
                "--update-model-config", "hidden_size=32,intermediate_size=64,num_hidden_layers=1,num_attention_heads=2,vocab_size=512");
        assertEquals(0, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("on mesh (dp=1, fsdp=8, mp=1) (8 cpu devices)"), r.out());
        assertTrue(r.out().contains("memory per device (8 devices)") && r.out().contains("parameters") && r.out().contains("optimizer state"),
                r.out());
    }

    static final String TINY = "hidden_size=32,intermediate_size=64,num_hidden_layers=1,num_attention_heads=4,num_key_value_heads=2,"
            + "vocab_size=50257";

    /**
     * The memory settings change how the step is computed, not what it computes: a run with the
     * loss and attention chunked, stopped after 2 steps and resumed with the same flags for a 3rd,
     * logs the losses of a plain 3-step run to 1e-6 (f32), and config.json keeps the settings.
     */
    @Test
    void chunkedLossAndAttentionTrainLikeTheWholeStep(@TempDir Path dir) throws IOException {
        String line = "{\"marker_user\": \"User:\", \"human_0\": \"How do I boil an egg?\", \"marker_gpt\": \"A helpful answer:\","
                + " \"gpt_1\": \"Put it in boiling water for nine minutes.\", \"fields\": \"[marker_user+human_0+marker_gpt],gpt_1,<|eos|>\"}\n";
        Path feedback = Files.writeString(dir.resolve("feedback.jsonl"), line.repeat(40));
        var common = java.util.List.of("train", "--tokenizer", "gpt2", "--train-data", feedback.toString(), "--seq-length", "32",
                "--batch-size", "2", "--log-freq", "1", "--lr", "0.001", "--lr-warmup-steps", "1", "--lr-decay-steps", "10",
                "--update-model-config", TINY);
        var chunks = java.util.List.of("--loss-chunk", "8", "--attention-chunk", "16");
        Path plain = dir.resolve("plain");
        Path chunked = dir.resolve("chunked");
        var a = run(args(common, java.util.List.of("--total-steps", "3", "--output-dir", plain.toString())));
        assertEquals(0, a.rc(), a.out() + a.err());
        var b = run(args(common, chunks, java.util.List.of("--total-steps", "2", "--output-dir", chunked.toString())));
        assertEquals(0, b.rc(), b.out() + b.err());
        var c = run(args(common, chunks, java.util.List.of("--total-steps", "3", "--resume", "--output-dir", chunked.toString())));
        assertEquals(0, c.rc(), c.out() + c.err());
        assertTrue(c.out().contains("resuming from") && c.out().contains("finished at step 3"), c.out());

        var want = losses(plain);
        var got = losses(chunked);
        assertEquals(3, want.size(), want.toString());
        assertEquals(want.size(), got.size(), "steps logged: " + got);
        for (int i = 0; i < want.size(); i++) {
            assertEquals(want.get(i), got.get(i), 1e-6, "hf_loss of step " + (i + 1) + " chunked vs whole: " + got + " vs " + want);
        }
        String config = Files.readString(chunked.resolve("config.json"));
        assertTrue(config.contains("\"loss_chunk\" : 8") && config.contains("\"attention_chunk\" : 16"), config);
        assertTrue(Files.readString(plain.resolve("config.json")).contains("\"loss_chunk\" : 0"));
    }

    private static String[] args(java.util.List<?>... parts) {
        return java.util.Arrays.stream(parts).flatMap(java.util.List::stream).map(Object::toString).toArray(String[]::new);
    }

    /** The hf_loss of each train line of a run's metrics.jsonl. */
    private static java.util.List<Double> losses(Path run) throws IOException {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var out = new java.util.ArrayList<Double>();
        for (String l : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            var node = json.readTree(l);
            if ("train".equals(node.path("split").asText())) {
                out.add(node.get("hf_loss").asDouble());
            }
        }
        return out;
    }

    @Test
    void memoryFlagsReachTheConfigAndBadOnesNameTheFlag() {
        TrainConfig c = parsed("--loss-chunk", "64", "--attention-chunk", "128", "--remat-policy", "dots_saveable");
        assertEquals(64, c.lossChunk());
        assertEquals(128, c.attentionChunk());
        assertEquals("dots_saveable", c.rematPolicy());
        TrainConfig d = parsed();
        assertEquals(0, d.lossChunk());
        assertEquals(0, d.attentionChunk());
        assertEquals(null, d.rematPolicy());

        var dry = java.util.List.of("train", "--dry-run", "--seq-length", "32", "--batch-size", "2", "--update-model-config", TINY);
        var r = run(args(dry, java.util.List.of("--loss-chunk", "12")));
        assertEquals(2, r.rc(), r.out() + r.err());
        assertEquals("cohx: --loss-chunk 12 does not divide --seq-length 32: use 0 (the whole sequence at once) or a divisor of 32 such"
                + " as 4, 8, 16", r.err().strip());
        var r2 = run(args(dry, java.util.List.of("--attention-chunk", "-4")));
        assertEquals(2, r2.rc(), r2.out() + r2.err());
        assertTrue(r2.err().contains("--attention-chunk must be 0 (the whole sequence at once) or a divisor of --seq-length 32, got -4"),
                r2.err());
        var r3 = run(args(dry, java.util.List.of("--remat-policy", "dots")));
        assertEquals(2, r3.rc(), r3.out() + r3.err());
        assertTrue(r3.err().contains("--remat-policy dots: use one of ") && r3.err().contains("dots_with_no_batch_dims_saveable"), r3.err());
        var help = run("train", "--help").out().replaceAll("\\s+", " ");
        assertTrue(help.contains("--loss-chunk=N") && help.contains("--attention-chunk=N") && help.contains("--remat-policy=POLICY"), help);
    }

    @Test
    void unknownFlagSuggestsTheClosest() {
        var r = run("train", "--totl-steps", "5");
        assertEquals(2, r.rc());
        assertTrue(r.err().startsWith("cohx train: unknown option '--totl-steps'; did you mean '--total-steps'?"), r.err());
    }

    @Test
    void unknownConfigKeySuggestsTheClosest(@TempDir Path dir) throws IOException {
        Path cfg = Files.writeString(dir.resolve("c.json"), "{\"bach_size\": 4}");
        var r = run("train", "--config", cfg.toString());
        assertEquals(2, r.rc());
        assertEquals("cohx: " + cfg + ": unknown key 'bach_size'; did you mean 'batch-size'?", r.err().strip());
    }

    @Test
    void missingFilesAndBadValuesNameTheFlag(@TempDir Path dir) {
        var r = run("train", "--tokenizer", "gpt2", "--train-data", dir.resolve("nope.jsonl").toString());
        assertEquals(2, r.rc());
        assertEquals("cohx: --train-data " + dir.resolve("nope.jsonl") + ": no such file", r.err().strip());
        var r2 = run("train", "--tokenizer", "gpt2");
        assertTrue(r2.err().contains("--train-data is required"), r2.err());
        var r3 = run("train", "--model", "llama", "--train-data", "x");
        assertTrue(r3.err().contains("--tokenizer is required for llama"), r3.err());
    }
}
