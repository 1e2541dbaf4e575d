package io.cohx.models.config;

import io.cohx.models.params.ParamTree;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The config.json files of real LLaMA-family checkpoints (test resources {@code hf-configs/}) read
 * into {@link LlamaConfig}: sizes, grouped-query heads, head size, rotary base and scaling, tied
 * embeddings, ids; the parameter count of the tree they describe equals the published model's, so
 * every shape (q/k/v/o with fewer key/value heads, no lm_head when tied) is right. Each also
 * round-trips through our JSON and through the Hugging Face form cohx writes.
 */
class LlamaFamilyConfigTest {

    static Path fixture(String name) {
        try {
            return Path.of(LlamaFamilyConfigTest.class.getResource("/hf-configs/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            // file, hidden, layers, heads, kv heads, head dim, rope theta, scaling, factor, tied, max positions, bos, eos, vocab, parameters
            "llama-2-7b.json,               4096, 32, 32, 32, 128,  10000, -,      0,  false, 4096,   1,      2,      32000,  6738415616",
            "llama-3.1-8b-instruct.json,    4096, 32, 32,  8, 128, 500000, llama3, 8,  false, 131072, 128000, 128001, 128256, 8030261248",
            "llama-3.2-1b.json,             2048, 16, 32,  8,  64, 500000, llama3, 32, true,  131072, 128000, 128001, 128256, 1235814400",
            "mistral-7b-v0.1.json,          4096, 32, 32,  8, 128,  10000, -,      0,  false, 4096,   1,      2,      32000,  7241732096",
            "tinyllama-1.1b-chat-v1.0.json, 2048, 22, 32,  4,  64,  10000, -,      0,  false, 2048,   1,      2,      32000,  1100048384",
            "smollm2-135m.json,              576, 30,  9,  3,  64, 100000, -,      0,  true,  8192,   0,      0,      49152,  134515008"})
    void readsRealConfigs(String file, int hidden, int layers, int heads, int kv, int headDim, double theta, String scaling,
                          double factor, boolean tied, int maxPositions, int bos, int eos, int vocab, long parameters) {
        LlamaConfig c = (LlamaConfig) ModelConfigs.resolve(fixture(file).toString(), null);
        assertEquals(hidden, c.hiddenSize());
        assertEquals(layers, c.numLayers());
        assertEquals(heads, c.numHeads());
        assertEquals(kv, c.numKvHeads());
        assertEquals(headDim, c.headDim());
        assertEquals(theta, c.ropeTheta());
        if (scaling.equals("-")) {
            assertNull(c.ropeScaling());
        } else {
            var s = assertInstanceOf(RopeScaling.Llama3.class, c.ropeScaling());
            assertEquals(factor, s.factor());
            assertEquals(1.0, s.lowFreqFactor());
            assertEquals(4.0, s.highFreqFactor());
            assertEquals(8192, s.originalMaxPositions());
        }
        assertEquals(tied, c.tieWordEmbeddings());
        assertEquals(maxPositions, c.maxPositions(), "Mistral's 4096-token sliding window caps its context");
        assertEquals(bos, c.bosTokenId());
        assertEquals(eos, c.eosTokenId(), "a list of eos ids keeps the first");
        assertEquals(vocab, c.vocabSize());
        assertEquals(parameters, ParamTree.of(c).numel(), "parameter count of the published model");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"llama-2-7b.json", "llama-3.1-8b-instruct.json", "llama-3.2-1b.json", "mistral-7b-v0.1.json",
            "tinyllama-1.1b-chat-v1.0.json", "smollm2-135m.json"})
    void roundTripsThroughOurJsonAndHuggingFaceForm(String file, @TempDir Path dir) throws IOException {
        LlamaConfig c = (LlamaConfig) ModelConfigs.resolve(fixture(file).toString(), null);
        Path ours = dir.resolve("ours.json");
        Files.writeString(ours, ModelConfigs.toJson(c));
        assertEquals(c, ModelConfigs.read(ours, "llama"), "our JSON");
        Path hf = dir.resolve("config.json");
        Files.writeString(hf, ModelConfigs.toJson(c.toHfConfig("bfloat16")));
        LlamaConfig back = (LlamaConfig) ModelConfigs.read(hf, null);
        assertEquals(c, back, "HF form");
    }

    /**
     * The keys another format's metadata is mapped onto (as GGUF's {@code llama.*} keys are):
     * numbers as Long/Float/Double, a rope_scaling map, head_dim stated even when it follows.
     */
    @Test
    void readsHuggingFaceKeysFromMetadataMaps() {
        var m = new LinkedHashMap<String, Object>();
        m.put("vocab_size", 49152L);
        m.put("hidden_size", 576L);
        m.put("intermediate_size", 1536L);
        m.put("num_hidden_layers", 30L);
        m.put("num_attention_heads", 9L);
        m.put("num_key_value_heads", 3L);
        m.put("head_dim", 64L);
        m.put("rope_theta", 100000.0f);
        m.put("rms_norm_eps", 1e-5);
        m.put("max_position_embeddings", 8192L);
        m.put("tie_word_embeddings", true);
        m.put("bos_token_id", 1L);
        m.put("eos_token_id", 2L);
        LlamaConfig smol = LlamaConfig.fromHf(m, "model.gguf");
        LlamaConfig fromFile = (LlamaConfig) ModelConfigs.resolve(fixture("smollm2-135m.json").toString(), null);
        assertEquals(fromFile.withUpdates(Map.of("bos_token_id", 1, "eos_token_id", 2, "initializer_range", 0.02), "t"), smol);
        assertNull(smol.explicitHeadDim(), "head_dim that equals hidden/heads is not kept");

        m.put("rope_scaling", Map.of("rope_type", "llama3", "factor", 8.0f, "low_freq_factor", 1.0f,
                "high_freq_factor", 4.0f, "original_max_position_embeddings", 8192L));
        assertEquals(new RopeScaling.Llama3(8, 1, 4, 8192), LlamaConfig.fromHf(m, "model.gguf").ropeScaling());
        m.put("rope_scaling", Map.of("type", "linear", "factor", 2));
        assertEquals(new RopeScaling.Linear(2), LlamaConfig.fromHf(m, "model.gguf").ropeScaling());
        m.put("rope_scaling", Map.of("rope_type", "default"));
        assertNull(LlamaConfig.fromHf(m, "model.gguf").ropeScaling(), "rope_type default is no scaling");
    }

    @Test
    void updatesKeepHeadsConsistent() {
        LlamaConfig debug = LlamaConfig.preset("debug");
        assertEquals(4, debug.numKvHeads());
        LlamaConfig more = debug.withUpdates(Map.of("num_attention_heads", 8), "t");
        assertEquals(8, more.numKvHeads(), "changing the heads alone stays multi-head");
        assertEquals(16, more.headDim());
        var kv = ModelConfigs.parseOverrides("num_key_value_heads=1,head_dim=48,rope_theta=500000", "--update-model-config");
        LlamaConfig mqa = debug.withUpdates(kv, "--update-model-config");
        assertEquals(1, mqa.numKvHeads());
        assertEquals(48, mqa.headDim());
        var scaled = ModelConfigs.parseOverrides("{\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 4}}", "--update-model-config");
        assertEquals(new RopeScaling.Linear(4), debug.withUpdates(scaled, "--update-model-config").ropeScaling());
        var off = ModelConfigs.parseOverrides("rope_scaling=null", "--update-model-config");
        assertNull(debug.withUpdates(scaled, "x").withUpdates(off, "--update-model-config").ropeScaling());
        var bad = assertThrows(ConfigException.class, () -> debug.withUpdates(Map.of("num_key_value_heads", 3), "cfg.json"));
        assertTrue(bad.getMessage().contains("num_attention_heads 4 must be a multiple of num_key_value_heads 3"), bad.getMessage());
        var odd = assertThrows(ConfigException.class, () -> debug.withUpdates(Map.of("head_dim", 33), "cfg.json"));
        assertTrue(odd.getMessage().contains("head_dim 33 must be even"), odd.getMessage());
        var text = assertThrows(ConfigException.class, () -> debug.withUpdates(Map.of("rope_scaling", "linear"), "--update-model-config"));
        assertTrue(text.getMessage().contains("rope_scaling") && text.getMessage().contains("JSON"), text.getMessage());
    }
}
