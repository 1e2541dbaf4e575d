package io.cohx.coh.train;

import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code cohx train --dry-run} compiles the step the run would (the model's own settings reach
 * it), and its figures are what the run occupies: a 5-layer model on 2 CPU devices (fsdp 2),
 * where the dry run compiles 1 and 2 layers and extrapolates. The parameters and optimizer state
 * it reports per device are what the run's buffers occupy on a device after a step, the
 * extrapolated compiled figures agree with compiling all 5 layers, and the estimate from shapes
 * counts the same state.
 */
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

    /**
     * --remat-policy, --loss-chunk and --attention-chunk reach the dry run through the same setup
     * as the run; without --device-memory the fit is against what the plugin reports, and the CPU
     * plugin reports nothing (PJRT_Device_MemoryStats is unimplemented there), so the host's
     * share is used and the table says where the figure came from.
     */
    @Test
    void memorySettingsAndTheDeviceMemorysSourceReachTheDryRun(@TempDir Path out) {
        var cfg = TrainConfig.of(c -> {
            c.trainData = List.of(Path.of("(dry-run)"));
            c.updateModelConfig = TINY;
            c.seqLength = 32;
            c.batchSize = 2;
            c.outputDir = out;
        });
        var sink = new PrintStream(new ByteArrayOutputStream());
        String plain = new Trainer(cfg, TestPlugins.cpuClient(1), sink).dryRun();
        TrainConfig lean = cfg.with(c -> {
            c.rematPolicy = "dots_saveable";
            c.lossChunk = 8;
            c.attentionChunk = 16;
        });
        String chunked = new Trainer(lean, TestPlugins.cpuClient(1), sink).dryRun();
        assertTrue(chunked.contains(", remat dots_saveable, loss chunk 8, attention chunk 16"), chunked);
        assertNotEquals(activations(cfg), activations(lean), "the memory settings change the step's activations");
        assertTrue(plain.contains("device memory: ") && plain.contains(" per device, from the host's memory shared by 1 CPU device; the cpu"
                + " plugin does not report device memory (PJRT_Device_MemoryStats unimplemented)"), plain);
    }

    static final String FIVE_LAYERS = "hidden_size=32,intermediate_size=64,num_hidden_layers=5,num_attention_heads=2,vocab_size=50304";

    @TempDir
    static Path data;

    @BeforeAll
    static void pack() {
        TrainerTest.packInto(data);
    }

    @Test
    void dryRunFiguresAreWhatTheRunOccupies(@TempDir Path dir) throws IOException {
        TrainConfig cfg = TrainerTest.config("llama", FIVE_LAYERS, "gpt2", dir.resolve("run"), 1, 2, 1, "fp32", 3e-3, 0.01, false, 0);
        var sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        var trainer = new Trainer(cfg, TestPlugins.cpuClient(2), sink);
        DryRun extrapolated = trainer.dryRun(0, false);
        DryRun full = trainer.dryRun(0, true);
        Trainer.Result run = trainer.run(null);

        long params = extrapolated.compiled().inputBytesUnder("params");
        long opt = extrapolated.compiled().inputBytesUnder("opt");
        assertEquals(run.deviceBytes().get("params"), params, "parameters per device: dry run vs the run's buffers");
        assertEquals(run.deviceBytes().get("opt"), opt, "optimizer state per device: dry run vs the run's buffers");
        assertEquals(full.compiled().inputBytesUnder("params"), params);
        assertEquals(full.compiled().inputBytesUnder("opt"), opt);
        // The estimate splits every parameter over fsdp; the run keeps the norms' scales whole on each device.
        assertEquals(params, extrapolated.estimate().parameters(), 0.01 * params, "the estimate's parameters per device");
        assertEquals(opt, extrapolated.estimate().optimizerState(), 0.01 * opt, "the estimate's optimizer state per device");

        long t = full.compiled().temporaries();
        long te = extrapolated.compiled().temporaries();
        assertTrue(Math.abs(te - t) <= 0.1 * t, "temporaries extrapolated from 1 and 2 layers " + te + " vs compiled with 5: " + t);
        long p = full.compiled().peakUpperBound();
        assertTrue(Math.abs(extrapolated.peak() - p) <= 0.1 * p, "peak extrapolated " + extrapolated.peak() + " vs compiled " + p);

        String table = extrapolated.table(trainer.dryRunGroups());
        assertTrue(table.contains("compiled with 1 and 2 layers, extrapolated to 5"), table);
        assertTrue(table.contains("estimate from shapes"), table);
        assertTrue(extrapolated.fits(), "a 13M-parameter step fits this machine's memory: " + table);
        DryRun tight = trainer.dryRun(1L << 20, false);
        String tightTable = tight.table(trainer.dryRunGroups());
        assertTrue(!tight.fits() && tightTable.contains("device memory: 1.00 MiB per device, from --device-memory")
                && tightTable.contains("does NOT fit 1.00 MiB per device: use more devices"), tightTable);
    }
}
