package io.cohx.cli;

import io.cohx.coh.data.SampleData;
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
                {"model": "llama", "update_model_config": "hidden_size=32,intermediate_size=64,num_hidden_layers=1,num_attention_heads=2,vocab_size=50257",
                 "tokenizer": "gpt2", "total_steps": 50, "seq_length": 32, "batch_size": 2, "log_freq": 1,
                 "lr": 0.001, "lr_warmup_steps": 1, "lr_decay_steps": 10}
                """);
        Path out = dir.resolve("run");
        var r = run("train", "--config", cfg.toString(), "--total-steps", "2", "--train-data", feedback.toString(),
                "--pt-train-data", pretrain.toString(), "--output-dir", out.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("finished at step 2"), r.out());
        assertEquals(2, Files.readAllLines(out.resolve("metrics.jsonl")).size(), "the flag (2 steps) won over the file (50)");
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"total_steps\" : 2"));
        // Feedback data without a "fields" key is an error naming the file.
        var bad = run("train", "--config", cfg.toString(), "--total-steps", "1", "--train-data", pretrain.toString(),
                "--output-dir", dir.resolve("bad").toString());
        assertEquals(2, bad.rc(), bad.out() + bad.err());
        assertTrue(bad.err().contains(SampleData.PRETRAIN), bad.err());
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
