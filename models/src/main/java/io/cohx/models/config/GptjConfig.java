package io.cohx.models.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * GPT-J hyper-parameters with the reference trainer's defaults (the 6b model, docs/COH.md#presets):
 * attention and MLP in parallel from one LayerNorm (with bias), rotary embeddings on the first
 * {@code rotaryDim} dims of each head (interleaved pairs), MLP of {@code nInner} (null: 4 x
 * hidden) with gelu_new, head with bias; 50400 embedding rows of which {@code nRealTokens} are
 * real tokens.
 */
public record GptjConfig(
        int vocabSize,
        int nPositions,
        int nEmbd,
        int nLayer,
        int nHead,
        int rotaryDim,
        Integer nInner,
        String activationFunction,
        double residPdrop,
        double embdPdrop,
        double attnPdrop,
        double layerNormEpsilon,
        double initializerRange,
        boolean scaleAttnWeights,
        int bosTokenId,
        int eosTokenId,
        boolean tieWordEmbeddings,
        boolean gradientCheckpointing,
        String rematPolicy,
        int nRealTokens,
        double fcmMinRatio,
        double fcmMaxRatio) implements ModelConfig {

    private static final ConfigRecord<GptjConfig> FORM =
            new ConfigRecord<>(GptjConfig.class, "gptj", "GPT-J", Set.of("model_type", "use_cache"));

    public static final List<String> PRESETS = List.of("debug", "6b");

    public GptjConfig {
        LlamaConfig.positive("vocab_size", vocabSize);
        LlamaConfig.positive("n_positions", nPositions);
        LlamaConfig.positive("n_embd", nEmbd);
        LlamaConfig.positive("n_layer", nLayer);
        LlamaConfig.positive("n_head", nHead);
        LlamaConfig.positive("n_real_tokens", nRealTokens);
        if (nInner != null) {
            LlamaConfig.positive("n_inner", nInner);
        }
        if (nEmbd % nHead != 0) {
            throw new ConfigException("GPT-J config: n_embd " + nEmbd + " is not a multiple of n_head " + nHead);
        }
        if (rotaryDim <= 0 || rotaryDim % 2 != 0 || rotaryDim > nEmbd / nHead) {
            throw new ConfigException("GPT-J config: rotary_dim " + rotaryDim + " must be even, positive and at most"
                    + " the head size " + nEmbd / nHead);
        }
        if (!"gelu_new".equals(activationFunction)) {
            throw new ConfigException("GPT-J config: activation_function '" + activationFunction
                    + "' is not supported by cohx (only 'gelu_new')");
        }
        if (!(layerNormEpsilon > 0) || !(initializerRange > 0)) {
            throw new ConfigException("GPT-J config: layer_norm_epsilon and initializer_range must be > 0");
        }
        if (nRealTokens > vocabSize) {
            throw new ConfigException("GPT-J config: n_real_tokens " + nRealTokens + " > vocab_size " + vocabSize);
        }
        LlamaConfig.rate("resid_pdrop", residPdrop);
        LlamaConfig.rate("embd_pdrop", embdPdrop);
        LlamaConfig.rate("attn_pdrop", attnPdrop);
        LlamaConfig.fcm(fcmMinRatio, fcmMaxRatio);
        LlamaConfig.remat(rematPolicy);
    }

    /** The reference's defaults: GPT-J 6B. */
    public static GptjConfig defaults() {
        return new GptjConfig(50400, 2048, 4096, 28, 16, 64, null, "gelu_new", 0.0, 0.0, 0.0, 1e-5, 0.02, true,
                50256, 50256, false, true, "nothing_saveable", 50257, 0.0, 0.0);
    }

    /** {@code 6b}, or {@code debug} (hidden 128, 2 layers, 4 heads, rotary_dim 16, full vocabulary). */
    public static GptjConfig preset(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "6b" -> defaults();
            case "debug" -> defaults().withUpdates(Map.of("n_embd", 128, "n_layer", 2, "n_head", 4, "rotary_dim", 16),
                    "the debug preset");
            default -> throw new ConfigException("unknown GPT-J preset '" + name + "'; presets are " + PRESETS);
        };
    }

    /** MLP width: {@code n_inner}, or 4 x {@code n_embd} when it is null. */
    public int innerDim() {
        return nInner != null ? nInner : 4 * nEmbd;
    }

    @Override
    public String modelType() {
        return "gptj";
    }

    @Override
    public int hiddenSize() {
        return nEmbd;
    }

    @Override
    public int numLayers() {
        return nLayer;
    }

    @Override
    public int numHeads() {
        return nHead;
    }

    @Override
    public int maxPositions() {
        return nPositions;
    }

    @Override
    public Map<String, Object> toMap() {
        return FORM.toMap(this);
    }

    static GptjConfig fromMap(Map<String, Object> m, String source) {
        return FORM.fromMap(m, source);
    }

    @Override
    public GptjConfig withUpdates(Map<String, ?> updates, String source) {
        return FORM.updated(this, updates, source);
    }

    @Override
    public Map<String, Object> toHfConfig(String torchDtype) {
        var m = new LinkedHashMap<String, Object>();
        m.put("architectures", List.of("GPTJForCausalLM"));
        m.put("model_type", "gptj");
        m.put("vocab_size", vocabSize);
        m.put("n_positions", nPositions);
        m.put("n_embd", nEmbd);
        m.put("n_layer", nLayer);
        m.put("n_head", nHead);
        m.put("rotary_dim", rotaryDim);
        m.put("n_inner", nInner);
        m.put("activation_function", activationFunction);
        m.put("resid_pdrop", residPdrop);
        m.put("embd_pdrop", embdPdrop);
        m.put("attn_pdrop", attnPdrop);
        m.put("layer_norm_epsilon", layerNormEpsilon);
        m.put("initializer_range", initializerRange);
        m.put("scale_attn_weights", scaleAttnWeights);
        m.put("bos_token_id", bosTokenId);
        m.put("eos_token_id", eosTokenId);
        m.put("tie_word_embeddings", tieWordEmbeddings);
        m.put("use_cache", true);
        m.put("torch_dtype", torchDtype);
        return m;
    }

    /** Reads a Hugging Face {@code GPTJConfig} map (keys n_embd, n_layer, ... or their attribute_map aliases). */
    public static GptjConfig fromHf(Map<String, ?> hf, String source) {
        HfKeys k = new HfKeys(hf, source);
        k.expectModelType("gptj");
        k.expect("activation_function", "gelu_new");
        var m = defaults().toMap();
        m.put("vocab_size", k.integer("vocab_size", 50400));
        m.put("n_positions", k.integer("n_positions", k.integer("max_position_embeddings", 2048)));
        m.put("n_embd", k.integer("n_embd", k.integer("hidden_size", 4096)));
        m.put("n_layer", k.integer("n_layer", k.integer("num_hidden_layers", 28)));
        m.put("n_head", k.integer("n_head", k.integer("num_attention_heads", 16)));
        m.put("rotary_dim", k.integer("rotary_dim", 64));
        m.put("n_inner", hf.get("n_inner") == null ? null : k.integer("n_inner", null));
        m.put("resid_pdrop", k.number("resid_pdrop", 0.0));
        m.put("embd_pdrop", k.number("embd_pdrop", 0.0));
        m.put("attn_pdrop", k.number("attn_pdrop", 0.0));
        m.put("layer_norm_epsilon", k.number("layer_norm_epsilon", 1e-5));
        m.put("initializer_range", k.number("initializer_range", 0.02));
        m.put("scale_attn_weights", k.bool("scale_attn_weights", true));
        m.put("bos_token_id", k.integer("bos_token_id", 50256));
        m.put("eos_token_id", k.integer("eos_token_id", 50256));
        m.put("tie_word_embeddings", k.bool("tie_word_embeddings", false));
        m.put("n_real_tokens", Math.min(50257, (Integer) m.get("vocab_size")));
        return fromMap(m, source);
    }
}
