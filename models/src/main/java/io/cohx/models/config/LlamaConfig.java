package io.cohx.models.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * LLaMA-family hyper-parameters with the reference trainer's defaults and presets (docs/COH.md#presets):
 * RMSNorm, rotary embeddings (base {@code ropeTheta}, optionally stretched by {@code ropeScaling},
 * interleaved pairs), SwiGLU MLP, untied head unless {@code tieWordEmbeddings}. The same record
 * describes Llama 2/3, Mistral, TinyLlama and SmolLM: {@code numKeyValueHeads} below
 * {@code numAttentionHeads} is grouped-query attention (1 = multi-query), {@code explicitHeadDim}
 * sets a head size other than {@code hiddenSize / numAttentionHeads}; both are null when they
 * follow the other sizes (so changing {@code num_attention_heads} alone keeps plain multi-head
 * attention). {@code gradientCheckpointing} re-computes each block in the backward pass, saving
 * what {@code rematPolicy} names; {@code fcm*Ratio} bound the forgetful causal mask's drop ratio.
 */
public record LlamaConfig(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        Integer numKeyValueHeads,
        @ConfigKey("head_dim") Integer explicitHeadDim,
        int maxSequenceLength,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        double initializerRange,
        int bosTokenId,
        int eosTokenId,
        double residPdrop,
        double embdPdrop,
        double attnPdrop,
        boolean tieWordEmbeddings,
        boolean gradientCheckpointing,
        String rematPolicy,
        double fcmMinRatio,
        double fcmMaxRatio) implements ModelConfig {

    /** Remat policies the trainer knows (names as in jax.checkpoint_policies). */
    public static final List<String> REMAT_POLICIES = List.of("nothing_saveable", "dots_saveable", "everything_saveable");

    /**
     * The map form: one key per component ({@code explicitHeadDim} is {@code head_dim}, {@code rope_scaling}
     * a JSON object or null); "model_type" and "use_cache" of the reference's files are accepted and dropped.
     */
    private static final ConfigRecord<LlamaConfig> FORM = new ConfigRecord<>(LlamaConfig.class, "llama", "LLaMA",
            Set.of("model_type", "use_cache"), Map.of("rope_scaling", new ConfigRecord.Codec(
                    v -> v == null ? null : ((RopeScaling) v).toMap(), RopeScaling::fromMap)));

    /** Preset names, smallest first. */
    public static final List<String> PRESETS = List.of("debug", "3b", "7b", "13b", "30b", "65b");

    public LlamaConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("max_sequence_length", maxSequenceLength);
        if (numKeyValueHeads != null) {
            positive("num_key_value_heads", numKeyValueHeads);
            if (numAttentionHeads % numKeyValueHeads != 0) {
                throw new ConfigException("LLaMA config: num_attention_heads " + numAttentionHeads
                        + " must be a multiple of num_key_value_heads " + numKeyValueHeads
                        + " (each key/value head serves an equal group of query heads)");
            }
        }
        if (explicitHeadDim != null) {
            positive("head_dim", explicitHeadDim);
            if (explicitHeadDim % 2 != 0) {
                throw new ConfigException("LLaMA config: head_dim " + explicitHeadDim + " must be even, for rotary embeddings");
            }
        } else if (hiddenSize % numAttentionHeads != 0 || (hiddenSize / numAttentionHeads) % 2 != 0) {
            throw new ConfigException("LLaMA config: hidden_size " + hiddenSize + " must be num_attention_heads ("
                    + numAttentionHeads + ") times an even head size, for rotary embeddings (or set head_dim)");
        }
        if (!(rmsNormEps > 0) || !(initializerRange > 0) || !(ropeTheta > 0)) {
            throw new ConfigException("LLaMA config: rms_norm_eps, initializer_range and rope_theta must be > 0");
        }
        rate("resid_pdrop", residPdrop);
        rate("embd_pdrop", embdPdrop);
        rate("attn_pdrop", attnPdrop);
        fcm(fcmMinRatio, fcmMaxRatio);
        remat(rematPolicy);
    }

    static void positive(String key, int v) {
        if (v <= 0) {
            throw new ConfigException("model config: " + key + " must be positive, got " + v);
        }
    }

    static void rate(String key, double v) {
        if (!(v >= 0 && v < 1)) {
            throw new ConfigException("model config: " + key + " must be in [0, 1), got " + v);
        }
    }

    static void fcm(double min, double max) {
        if (!(min >= 0 && min <= max && max <= 1)) {
            throw new ConfigException("model config: need 0 <= fcm_min_ratio <= fcm_max_ratio <= 1, got "
                    + min + " and " + max);
        }
    }

    static void remat(String policy) {
        if (!REMAT_POLICIES.contains(policy)) {
            throw new ConfigException("model config: remat_policy '" + policy + "' is not one of " + REMAT_POLICIES);
        }
    }

    /** The reference's defaults (those of its LLaMAConfig, i.e. 7b sizes, bos 0 / eos 1). */
    public static LlamaConfig defaults() {
        return new LlamaConfig(32000, 4096, 11008, 32, 32, null, null, 2048, 1e-6, 10000.0, null, 0.02, 0, 1,
                0.0, 0.0, 0.0, false, true, "nothing_saveable", 0.0, 0.0);
    }

    /** A preset of docs/COH.md#presets: debug, 3b, 7b, 13b, 30b or 65b. */
    public static LlamaConfig preset(String name) {
        LlamaConfig d = defaults();
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "debug" -> d.sized("debug", 128, 256, 2, 4, 1e-6);
            case "3b" -> d.sized("3b", 3200, 8640, 26, 32, 1e-6);
            case "7b" -> d.sized("7b", 4096, 11008, 32, 32, 1e-6);
            case "13b" -> d.sized("13b", 5120, 13824, 40, 40, 1e-6);
            case "30b" -> d.sized("30b", 6656, 17920, 60, 52, 1e-6);
            case "65b" -> d.sized("65b", 8192, 22016, 80, 64, 1e-5);
            default -> throw new ConfigException("unknown LLaMA preset '" + name + "'; presets are " + PRESETS);
        };
    }

    private LlamaConfig sized(String name, int hidden, int inter, int layers, int heads, double eps) {
        var m = toMap();
        m.put("hidden_size", hidden);
        m.put("intermediate_size", inter);
        m.put("num_hidden_layers", layers);
        m.put("num_attention_heads", heads);
        m.put("rms_norm_eps", eps);
        return fromMap(m, "the " + name + " preset");
    }

    @Override
    public String modelType() {
        return "llama";
    }

    @Override
    public int numLayers() {
        return numHiddenLayers;
    }

    @Override
    public int numHeads() {
        return numAttentionHeads;
    }

    @Override
    public int maxPositions() {
        return maxSequenceLength;
    }

    /** Key/value heads: {@code num_key_value_heads}, or every attention head when it is null. */
    @Override
    public int numKvHeads() {
        return numKeyValueHeads != null ? numKeyValueHeads : numAttentionHeads;
    }

    /** Per-head size: {@code head_dim}, or {@code hidden_size / num_attention_heads} when it is null. */
    @Override
    public int headDim() {
        return explicitHeadDim != null ? explicitHeadDim : hiddenSize / numAttentionHeads;
    }

    @Override
    public Map<String, Object> toMap() {
        return FORM.toMap(this);
    }

    /** Builds a config from a map holding every key with values already coerced. */
    static LlamaConfig fromMap(Map<String, Object> m, String source) {
        return FORM.fromMap(m, source);
    }

    @Override
    public LlamaConfig withUpdates(Map<String, ?> updates, String source) {
        return FORM.updated(this, updates, source);
    }

    @Override
    public Map<String, Object> toHfConfig(String torchDtype) {
        var m = new LinkedHashMap<String, Object>();
        m.put("architectures", List.of("LlamaForCausalLM"));
        m.put("model_type", "llama");
        m.put("vocab_size", vocabSize);
        m.put("hidden_size", hiddenSize);
        m.put("intermediate_size", intermediateSize);
        m.put("num_hidden_layers", numHiddenLayers);
        m.put("num_attention_heads", numAttentionHeads);
        m.put("num_key_value_heads", numKvHeads());
        m.put("head_dim", headDim());
        m.put("max_position_embeddings", maxSequenceLength);
        m.put("rms_norm_eps", rmsNormEps);
        m.put("rope_theta", ropeTheta);
        m.put("rope_scaling", ropeScaling == null ? null : ropeScaling.toMap());
        m.put("hidden_act", "silu");
        m.put("attention_bias", false);
        m.put("attention_dropout", attnPdrop);
        m.put("mlp_bias", false);
        m.put("initializer_range", initializerRange);
        m.put("bos_token_id", bosTokenId);
        m.put("eos_token_id", eosTokenId);
        m.put("tie_word_embeddings", tieWordEmbeddings);
        m.put("use_cache", true);
        m.put("torch_dtype", torchDtype);
        return m;
    }

    /** Hugging Face model types that are this architecture (Mistral is LLaMA with an optional sliding window). */
    public static final List<String> HF_MODEL_TYPES = List.of("llama", "mistral");

    /**
     * Reads a Hugging Face {@code LlamaConfig} / {@code MistralConfig} map (a config.json, or keys
     * mapped from another format's metadata). Grouped-query attention, {@code head_dim},
     * {@code rope_theta}, {@code rope_scaling} (linear, llama3) and tied embeddings are read;
     * biases, another activation or another rope scaling are refused by name. A Mistral
     * {@code sliding_window} caps the context at the window: within it, windowed and full causal
     * attention are the same. An {@code eos_token_id} list keeps its first id.
     */
    public static LlamaConfig fromHf(Map<String, ?> hf, String source) {
        HfKeys k = new HfKeys(hf, source);
        k.expectModelType(HF_MODEL_TYPES);
        int hidden = k.integer("hidden_size", null);
        int heads = k.integer("num_attention_heads", null);
        int kv = k.integer("num_key_value_heads", heads);
        int headDim = k.integer("head_dim", 0);
        k.expect("hidden_act", "silu");
        k.expectFalseOrAbsent("attention_bias");
        k.expectFalseOrAbsent("mlp_bias");
        int maxPositions = k.integer("max_position_embeddings", 2048);
        int window = k.integer("sliding_window", 0);
        var m = defaults().toMap();
        m.put("vocab_size", k.integer("vocab_size", null));
        m.put("hidden_size", hidden);
        m.put("intermediate_size", k.integer("intermediate_size", null));
        m.put("num_hidden_layers", k.integer("num_hidden_layers", null));
        m.put("num_attention_heads", heads);
        m.put("num_key_value_heads", kv == heads ? null : kv);
        m.put("head_dim", headDim == 0 || headDim * heads == hidden ? null : headDim);
        m.put("max_sequence_length", window > 0 ? Math.min(maxPositions, window) : maxPositions);
        m.put("rms_norm_eps", k.number("rms_norm_eps", 1e-6));
        m.put("rope_theta", k.number("rope_theta", 10000.0));
        m.put("rope_scaling", hf.get("rope_scaling"));
        m.put("initializer_range", k.number("initializer_range", 0.02));
        m.put("bos_token_id", k.firstInteger("bos_token_id", 1));
        m.put("eos_token_id", k.firstInteger("eos_token_id", 2));
        m.put("attn_pdrop", k.number("attention_dropout", 0.0));
        m.put("tie_word_embeddings", k.bool("tie_word_embeddings", false));
        return fromMap(m, source);
    }
}
