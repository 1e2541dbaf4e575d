package io.cohx.coh.train;

import io.cohx.models.CausalLm;
import io.cohx.models.config.ModelConfigs;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --load-checkpoint kinds and the checks on what they load. */
class ModelSetupTest {
    static final Path GOLDEN_LLAMA = Path.of("../models/src/test/resources/golden/llama");

    static TrainConfig cfg(Path out, String modelConfig, String load) {
        return TrainConfig.of(c -> {
            c.modelConfig = modelConfig;
            c.loadCheckpoint = load;
            c.tokenizer = "gpt2";
            c.seqLength = 16;
            c.batchSize = 1;
            c.lr = 1e-3;
            c.endLr = 1e-4;
            c.lrWarmupSteps = 1L;
            c.lrDecaySteps = 10;
            c.weightDecay = 0;
            c.totalSteps = 1;
            c.logFreq = 1;
            c.seed = 1;
            c.outputDir = out;
        });
    }

    @Test
    void hfFolderLoadsIntoTheCanonicalTreeAndMismatchesAreNamed(@TempDir Path out) {
        var sink = new PrintStream(new ByteArrayOutputStream());
        var mc = ModelConfigs.resolve(GOLDEN_LLAMA.toString(), "llama");
        CausalLm model = CausalLm.of(mc);
        var c = cfg(out, GOLDEN_LLAMA.toString(), "hf::" + GOLDEN_LLAMA);
        var params = ModelSetup.initialParams(c, model, null, TestPlugins.cpuClient(1), sink);
        assertEquals(model.paramTypes().paths().stream().sorted().toList(), params.paths().stream().sorted().toList());
        // The same weights against a bigger model: the error names the tensor and both shapes.
        CausalLm bigger = CausalLm.of(mc.withUpdates(java.util.Map.of("hidden_size", 128), "test"));
        var e = assertThrows(RuntimeException.class, () -> ModelSetup.initialParams(c, bigger, null, TestPlugins.cpuClient(1), sink));
        assertTrue(e.getMessage().contains("shape") && e.getMessage().contains("128"), e.getMessage());
        var bad = assertThrows(TrainingException.class,
                () -> ModelSetup.initialParams(cfg(out, "debug", "torch::x"), model, null, TestPlugins.cpuClient(1), sink));
        assertTrue(bad.getMessage().contains("unknown kind 'torch'") && bad.getMessage().contains("hf::DIR"), bad.getMessage());
    }
}
