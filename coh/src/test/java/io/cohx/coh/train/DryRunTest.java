package io.cohx.coh.train;

import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cohx train --dry-run} compiles the step the run would: the model's own settings reach it. */
class DryRunTest {
    static final String TINY = "hidden_size=32,intermediate_size=64,num_hidden_layers=2,num_attention_heads=2,vocab_size=256";

    static String activations(TrainConfig cfg) {
        var sink = new PrintStream(new ByteArrayOutputStream());
        String report = new Trainer(cfg, TestPlugins.cpuClient(1), sink).dryRun();
        return report.lines().filter(l -> l.contains("activations")).findFirst().orElseThrow(() -> new AssertionError(report));
    }

    @Test
    void theModelsGradientCheckpointingReachesTheDryRun(@TempDir Path out) {
        // Before the run and the dry run shared one setup, the dry run ignored gradient_checkpointing.
        var cfg = TrainConfig.of(c -> {
            c.trainData = List.of(Path.of("(dry-run)"));
            c.seqLength = 32;
            c.batchSize = 2;
            c.outputDir = out;
        });
        String remat = activations(cfg.with(c -> c.updateModelConfig = TINY + ",gradient_checkpointing=true"));
        String plain = activations(cfg.with(c -> c.updateModelConfig = TINY + ",gradient_checkpointing=false"));
        assertTrue(remat.contains("iB") || remat.contains(" B"), remat);
        assertNotEquals(plain, remat, "recomputing each block in the backward pass changes the step's activations");
    }
}
