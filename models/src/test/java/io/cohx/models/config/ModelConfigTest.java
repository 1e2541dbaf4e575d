package io.cohx.models.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelConfigTest {

    @Test
    void llamaPresetsMatchTheSpecTable() {
        // name, hidden, intermediate, layers, heads, eps (docs/COH.md#presets)
        Object[][] table = {
                {"debug", 128, 256, 2, 4, 1e-6}, {"3b", 3200, 8640, 26, 32, 1e-6}, {"7b", 4096, 11008, 32, 32, 1e-6},
                {"13b", 5120, 13824, 40, 40, 1e-6}, {"30b", 6656, 17920, 60, 52, 1e-6},
                {"65b", 8192, 22016, 80, 64, 1e-5}};
        for (Object[] row : table) {
            LlamaConfig c = LlamaConfig.preset((String) row[0]);
            assertEquals(row[1], c.hiddenSize(), (String) row[0]);
            assertEquals(row[2], c.intermediateSize(), (String) row[0]);
            assertEquals(row[3], c.numHiddenLayers(), (String) row[0]);
            assertEquals(row[4], c.numAttentionHeads(), (String) row[0]);
            assertEquals((double) row[5], c.rmsNormEps(), (String) row[0]);
            assertEquals(32000, c.vocabSize());
            assertEquals(2048, c.maxSequenceLength());
            assertEquals(0.02, c.initializerRange());
            assertEquals(10000.0, c.ropeTheta());
            assertEquals(false, c.tieWordEmbeddings());
        }
        assertEquals(LlamaConfig.PRESETS.size(), table.length);
    }

    /**
     * The reference trainer's model_config.json has no model_type: the type comes from its keys
     * (or from the caller when they fit neither), and a cohx train run's config.json reads as the
     * model config it trained.
     */
    @Test
    void configsWithoutModelTypeAreReadByTheirKeys(@TempDir Path dir) throws IOException {
        Path llama = dir.resolve("llama_model_config.json");
        Files.writeString(llama, """
                {"vocab_size": 32000, "hidden_size": 256, "intermediate_size": 688, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "max_sequence_length": 512, "rms_norm_eps": 1e-06, "initializer_range": 0.02,
                 "use_cache": true, "bos_token_id": 0, "eos_token_id": 1, "resid_pdrop": 0.0, "embd_pdrop": 0.0,
                 "attn_pdrop": 0.0, "tie_word_embeddings": false, "gradient_checkpointing": true,
                 "fcm_min_ratio": 0.0, "fcm_max_ratio": 0.0}
                """);
        var l = (LlamaConfig) ModelConfigs.resolve(llama.toString(), null);
        assertEquals(256, l.hiddenSize());
        assertEquals(512, l.maxSequenceLength());
        Path gptj = dir.resolve("gptj_model_config.json");
        Files.writeString(gptj, """
                {"vocab_size": 50400, "n_positions": 2048, "n_embd": 64, "n_layer": 2, "n_head": 4, "rotary_dim": 8,
                 "n_inner": null, "activation_function": "gelu_new", "resid_pdrop": 0.0, "embd_pdrop": 0.0,
                 "attn_pdrop": 0.0, "layer_norm_epsilon": 1e-05, "initializer_range": 0.02, "scale_attn_weights": true,
                 "use_cache": true, "bos_token_id": 50256, "eos_token_id": 50256, "tie_word_embeddings": false,
                 "gradient_checkpointing": true, "n_real_tokens": 50257, "fcm_min_ratio": 0.0, "fcm_max_ratio": 0.0}
                """);
        assertEquals(64, ((GptjConfig) ModelConfigs.resolve(gptj.toString(), null)).nEmbd());
        var wrong = assertThrows(ConfigException.class, () -> ModelConfigs.resolve(gptj.toString(), "llama"));
        assertTrue(wrong.getMessage().contains("is a gptj config, but a llama config was asked for"), wrong.getMessage());

        Path partial = dir.resolve("partial.json");
        Files.writeString(partial, "{\"vocab_size\": 60000}");
        assertEquals(60000, ModelConfigs.resolve(partial.toString(), "gptj").vocabSize(), "the caller's type (--model) when the keys say nothing");
        var none = assertThrows(ConfigException.class, () -> ModelConfigs.resolve(partial.toString(), null));
        assertTrue(none.getMessage().contains("does not say its model_type"), none.getMessage());

        Path run = dir.resolve("config.json");
        var runMap = new LinkedHashMap<String, Object>();
        runMap.put("model_type", "llama");
        runMap.put("model", "llama");
        runMap.put("seq_length", 1024);
        runMap.put(ModelConfigs.RUN_MODEL_CONFIG, l.toMap());
        Files.writeString(run, ModelConfigs.toJson(runMap));
        assertEquals(l, ModelConfigs.resolve(run.toString(), null));
    }

    @Test
    void gptjPresets() {
        GptjConfig g = GptjConfig.preset("6b");
        assertEquals(4096, g.nEmbd());
        assertEquals(28, g.nLayer());
        assertEquals(16, g.nHead());
        assertEquals(64, g.rotaryDim());
        assertEquals(16384, g.innerDim());
        assertEquals(50400, g.vocabSize());
        assertEquals(2048, g.nPositions());
        assertEquals(1e-5, g.layerNormEpsilon());
        assertEquals("gelu_new", g.activationFunction());
        assertEquals(50256, g.bosTokenId());
        GptjConfig d = GptjConfig.preset("debug");
        assertEquals(128, d.nEmbd());
        assertEquals(16, d.rotaryDim());
        assertEquals(512, d.innerDim());
    }

    @Test
    void ourJsonRoundTrips(@TempDir Path dir) throws IOException {
        for (ModelConfig c : new ModelConfig[] {LlamaConfig.preset("13b").withUpdates(Map.of("fcm_max_ratio", 0.5), "t"),
                GptjConfig.preset("debug")}) {
            Path f = dir.resolve(c.modelType() + ".json");
            Files.writeString(f, ModelConfigs.toJson(c));
            assertEquals(c, ModelConfigs.read(f, null));
            assertEquals(c, ModelConfigs.resolve(f.toString(), c.modelType()));
        }
    }

    @Test
    void partialJsonOverridesDefaults(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("c.json");
        Files.writeString(f, "{\"hidden_size\": 64, \"num_attention_heads\": 2, \"use_cache\": true}");
        LlamaConfig c = (LlamaConfig) ModelConfigs.read(f, "llama");
        assertEquals(64, c.hiddenSize());
        assertEquals(11008, c.intermediateSize());
    }

    @Test
    void huggingFaceConfigRoundTrips() {
        for (ModelConfig c : new ModelConfig[] {LlamaConfig.preset("7b"), GptjConfig.preset("6b")}) {
            Map<String, Object> hf = c.toHfConfig("bfloat16");
            ModelConfig back = c instanceof LlamaConfig ? LlamaConfig.fromHf(hf, "x") : GptjConfig.fromHf(hf, "x");
            // fields HF does not carry (fcm, remat, reference bos/eos placeholders) keep our defaults
            assertEquals(c.hiddenSize(), back.hiddenSize());
            assertEquals(c.numLayers(), back.numLayers());
            assertEquals(c.numHeads(), back.numHeads());
            assertEquals(c.vocabSize(), back.vocabSize());
            assertEquals(c.maxPositions(), back.maxPositions());
            assertEquals(c.toHfConfig("bfloat16"), back.toHfConfig("bfloat16"));
        }
        assertNull(GptjConfig.preset("6b").toHfConfig("float32").get("n_inner"));
    }

    @Test
    void readsRealHuggingFaceFixture() {
        ModelConfig c = ModelConfigs.resolve(io.cohx.models.checkpoint.Fixtures.path("llama-hf").toString(), null);
        assertEquals("llama", c.modelType());
        assertEquals(16, c.hiddenSize());
        assertEquals(1, c.bosTokenId());
        assertEquals(2, c.eosTokenId());
    }

    @Test
    void refusesWhatCohxDoesNotImplement() {
        var hf = new LinkedHashMap<String, Object>(LlamaConfig.preset("7b").toHfConfig("float32"));
        hf.put("rope_scaling", Map.of("rope_type", "yarn", "factor", 4.0));
        var e = assertThrows(ConfigException.class, () -> LlamaConfig.fromHf(hf, "cfg.json"));
        assertTrue(e.getMessage().contains("cfg.json: rope_scaling type 'yarn'") && e.getMessage().contains("[linear, llama3]"),
                e.getMessage());
        hf.put("rope_scaling", Map.of("rope_type", "llama3", "factor", 8.0));
        e = assertThrows(ConfigException.class, () -> LlamaConfig.fromHf(hf, "cfg.json"));
        assertTrue(e.getMessage().contains("'low_freq_factor' must be a number"), e.getMessage());
        hf.put("rope_scaling", null);
        hf.put("num_key_value_heads", 5);
        e = assertThrows(ConfigException.class, () -> LlamaConfig.fromHf(hf, "cfg.json"));
        assertTrue(e.getMessage().contains("num_attention_heads 32 must be a multiple of num_key_value_heads 5"), e.getMessage());
        hf.put("num_key_value_heads", 8);
        hf.put("attention_bias", true);
        e = assertThrows(ConfigException.class, () -> LlamaConfig.fromHf(hf, "cfg.json"));
        assertTrue(e.getMessage().contains("attention_bias"), e.getMessage());
        hf.put("attention_bias", false);
        hf.put("model_type", "qwen2");
        e = assertThrows(ConfigException.class, () -> LlamaConfig.fromHf(hf, "cfg.json"));
        assertTrue(e.getMessage().contains("model_type is 'qwen2'"), e.getMessage());
    }

    @Test
    void overridesAsJsonOrKeyValue() {
        ModelConfig base = LlamaConfig.preset("debug");
        var viaJson = base.withUpdates(ModelConfigs.parseOverrides("{\"num_hidden_layers\": 3, \"fcm_max_ratio\": 0.25}",
                "--update-model-config"), "--update-model-config");
        var viaKv = base.withUpdates(ModelConfigs.parseOverrides("num_hidden_layers=3, fcm_max_ratio=0.25",
                "--update-model-config"), "--update-model-config");
        assertEquals(viaJson, viaKv);
        assertEquals(3, viaKv.numLayers());
        var g = GptjConfig.preset("debug").withUpdates(ModelConfigs.parseOverrides("n_inner=none,gradient_checkpointing=false", "f"), "f");
        assertNull(g.nInner());
    }

    @Test
    void unknownKeyIsNamedWithSuggestion() {
        var e = assertThrows(ConfigException.class, () -> LlamaConfig.preset("debug")
                .withUpdates(ModelConfigs.parseOverrides("hiden_size=64", "--update-model-config"), "--update-model-config"));
        assertTrue(e.getMessage().contains("'hiden_size'"), e.getMessage());
        assertTrue(e.getMessage().contains("--update-model-config"), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean 'hidden_size'"), e.getMessage());
        var bad = assertThrows(ConfigException.class, () -> LlamaConfig.preset("debug")
                .withUpdates(Map.of("num_hidden_layers", "two"), "cfg.json"));
        assertTrue(bad.getMessage().contains("num_hidden_layers") && bad.getMessage().contains("integer"), bad.getMessage());
        assertThrows(ConfigException.class, () -> ModelConfigs.parseOverrides("hidden_size", "--update-model-config"));
    }

    @Test
    void inconsistentSizesAreRefused() {
        assertThrows(ConfigException.class, () -> LlamaConfig.preset("debug").withUpdates(Map.of("num_attention_heads", 3), "t"));
        assertThrows(ConfigException.class, () -> GptjConfig.preset("debug").withUpdates(Map.of("rotary_dim", 48), "t"));
        assertThrows(ConfigException.class, () -> LlamaConfig.preset("debug").withUpdates(Map.of("fcm_min_ratio", 0.5), "t"));
        assertThrows(ConfigException.class, () -> ModelConfigs.resolve("llama:huge", null));
    }
}
