package io.cohx.coh.train;

import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.models.CausalLm;
import io.cohx.models.HfWeights;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.tokenizer.BundledTokenizer;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Starting from a GGUF file: --model-config FILE.gguf gives the file's config, gguf::FILE the
 * same weights as the Hugging Face import of that model, the run's checkpoints keep the file's
 * tokenizer, and serve/generate load gguf:: with it.
 */
class GgufStartTest {
    static final Path TINY = Path.of("../models/src/test/resources/gguf/tiny-llama.gguf");

    @Test
    void ggufFileGivesConfigWeightsAndTokenizerToARun(@TempDir Path out) {
        var c = ModelSetupTest.cfg(out, TINY.toString(), "gguf::" + TINY);
        ModelConfig mc = ModelSetup.modelConfig(c);
        HfWeights.Loaded hf = HfWeights.load(ModelSetupTest.GOLDEN_LLAMA);
        assertEquals(ModelConfigs.read(ModelSetupTest.GOLDEN_LLAMA.resolve("config.json"), null).toMap(), mc.toMap());
        CausalLm model = CausalLm.of(mc);
        Tree<Object> params = ModelSetup.initialParams(c, model, null, TestPlugins.cpuClient(1), new PrintStream(new ByteArrayOutputStream()));
        for (String p : hf.params().paths()) {
            assertEquals(-1, ((NdArray) params.get(p)).segment().mismatch(hf.params().get(p).segment()), p);
        }
        BundledTokenizer tok = ModelSetup.bundledTokenizer(c, null);
        assertEquals(256, tok.vocabulary().tokens().size());

        Path saved = TrainCheckpoint.save(out, "step_1", mc, 1, params, null, Map.of(), tok);
        BundledTokenizer kept = BundledTokenizer.readFrom(saved);
        assertEquals(tok.vocabulary().tokens(), kept.vocabulary().tokens());
        assertEquals(tok.chatTemplate(), kept.chatTemplate());
        assertTrue(io.cohx.models.checkpoint.CohxCheckpoint.readManifest(saved).extra().get("tokenizer") instanceof Map<?, ?> m
                && BundledTokenizer.VOCABULARY_FILE.equals(m.get("vocabulary")), "the manifest names the kept tokenizer");
        // A run resumed or loaded from that checkpoint keeps passing the tokenizer on.
        var fromParams = ModelSetupTest.cfg(out, TINY.toString(), "params::" + saved);
        assertEquals(tok.vocabulary().merges(), ModelSetup.bundledTokenizer(fromParams, null).vocabulary().merges());

        ServedModel served = ServedModel.load("gguf::" + TINY, "llama", "debug", null, 0, TestPlugins.cpuClient(1));
        assertNotNull(served.tokenizer());
        assertEquals(mc.toMap(), served.model().config().toMap());
        ServedModel fromCheckpoint = ServedModel.load("params::" + saved, "llama", "debug", null, 0, TestPlugins.cpuClient(1));
        assertEquals(tok.chatTemplate(), fromCheckpoint.tokenizer().chatTemplate());
    }
}
