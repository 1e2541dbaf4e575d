package io.cohx.models.gguf;

import io.cohx.engine.DType;
import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.RopeScaling;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The model config in GGUF metadata ({@code general.architecture} and the {@code llama.*} keys)
 * to and from cohx's {@link LlamaConfig}. Reading goes through the Hugging Face config keys
 * ({@link #hfConfig}) and {@link LlamaConfig#fromHf}, so GGUF files get exactly the checks and
 * features a Hugging Face {@code config.json} gets (grouped-query attention, head_dim, rope
 * scaling, tied embeddings where cohx implements them). Tied embeddings are an absent
 * {@code output.weight}; Llama 3.1-style rope scaling is the {@code rope_freqs.weight} tensor of
 * per-frequency divisors that llama.cpp's converter writes.
 */
public final class GgufConfig {
    private GgufConfig() {}

    /** The architectures cohx reads ({@code llama} covers Llama 1-3, Mistral 7B, TinyLlama, SmolLM). */
    public static final List<String> ARCHITECTURES = List.of("llama");

    static final String ROPE_FREQS = "rope_freqs.weight";
    /** llama.cpp's LLAMA_FTYPE values of the encodings cohx writes. */
    static final Map<GgmlType, Integer> FILE_TYPES = Map.of(GgmlType.F32, 0, GgmlType.F16, 1, GgmlType.Q8_0, 7, GgmlType.BF16, 32);

    /** The model config of the file {@code r} reads. */
    public static ModelConfig read(GgufReader r) {
        return LlamaConfig.fromHf(hfConfig(r), r.source() + " (GGUF metadata)");
    }

    /**
     * The file's config under Hugging Face {@code LlamaConfig} keys: what {@code config.json}
     * would say. Errors name the file and the key.
     */
    public static Map<String, Object> hfConfig(GgufReader r) {
        Map<String, GgufValue> meta = r.metadata();
        Path src = r.source();
        var k = new GgufKeys(meta, src);
        String arch = k.string("general.architecture", null);
        if (arch == null) {
            throw new CheckpointException(src + " lacks 'general.architecture'; cohx reads GGUF models of architecture " + ARCHITECTURES);
        }
        if (!ARCHITECTURES.contains(arch)) {
            throw new CheckpointException(src + " is a '" + arch + "' model; cohx reads GGUF models of architecture "
                    + ARCHITECTURES + " (Llama 1-3, Mistral 7B, TinyLlama, SmolLM)");
        }
        String a = arch + ".";
        if (k.integer(a + "expert_count", 0L) > 0) {
            throw new CheckpointException(src + ": " + a + "expert_count is " + k.integer(a + "expert_count", 0L)
                    + " (a mixture of experts, e.g. Mixtral); cohx implements dense LLaMA models only");
        }
        int hidden = (int) k.integer(a + "embedding_length", null);
        int heads = (int) k.integer(a + "attention.head_count", null);
        int kv = (int) k.integer(a + "attention.head_count_kv", (long) heads);
        int headDim = (int) k.integer(a + "attention.key_length", heads > 0 ? (long) hidden / heads : 0L);
        int valueDim = (int) k.integer(a + "attention.value_length", (long) headDim);
        if (valueDim != headDim) {
            throw new CheckpointException(src + ": " + a + "attention.value_length " + valueDim + " differs from key_length "
                    + headDim + "; cohx's attention has one head size");
        }
        int ropeDims = (int) k.integer(a + "rope.dimension_count", (long) headDim);
        if (ropeDims != headDim) {
            throw new CheckpointException(src + ": " + a + "rope.dimension_count " + ropeDims + " is not the head size " + headDim
                    + " (partial rotary); cohx's LLaMA rotates whole heads");
        }
        List<String> tokens = meta.containsKey(GgufVocabulary.TOKENS) ? k.strings(GgufVocabulary.TOKENS, false) : null;
        GgufReader.Tensor embd = r.tensor("token_embd.weight");
        long vocab = k.integer(a + "vocab_size", tokens != null ? (long) tokens.size()
                : embd != null ? embd.shape()[0] : null);

        var m = new LinkedHashMap<String, Object>();
        m.put("architectures", List.of("LlamaForCausalLM"));
        m.put("model_type", "llama");
        m.put("vocab_size", (int) vocab);
        m.put("hidden_size", hidden);
        m.put("intermediate_size", (int) k.integer(a + "feed_forward_length", null));
        m.put("num_hidden_layers", (int) k.integer(a + "block_count", null));
        m.put("num_attention_heads", heads);
        m.put("num_key_value_heads", kv);
        m.put("head_dim", headDim);
        m.put("max_position_embeddings", (int) k.integer(a + "context_length", 2048L));
        m.put("rms_norm_eps", k.number(a + "attention.layer_norm_rms_epsilon", 1e-5));
        double theta = k.number(a + "rope.freq_base", 10000.0);
        m.put("rope_theta", theta);
        m.put("rope_scaling", ropeScaling(r, k, a, theta, headDim));
        m.put("hidden_act", "silu");
        int n = tokens != null ? tokens.size() : (int) vocab;
        int bos = k.id(GgufVocabulary.BOS, n);
        int eos = k.id(GgufVocabulary.EOS, n);
        if (bos >= 0) {
            m.put("bos_token_id", bos);
        }
        if (eos >= 0) {
            m.put("eos_token_id", eos);
        }
        m.put("tie_word_embeddings", r.tensor("output.weight") == null);
        return m;
    }

    /** Hugging Face's rope_scaling map for the file's keys and rope_freqs tensor, or null for none. */
    private static Map<String, Object> ropeScaling(GgufReader r, GgufKeys k, String a, double theta, int headDim) {
        Path src = r.source();
        String type = k.string(a + "rope.scaling.type", null);
        double factor = k.number(a + "rope.scaling.factor", 0.0);
        if (type == null && k.has(a + "rope.scale_linear")) { // the key before rope.scaling.* existed
            type = "linear";
            factor = k.number(a + "rope.scale_linear", null);
        }
        GgufReader.Tensor freqs = r.tensor(ROPE_FREQS);
        if (freqs != null) {
            if (type != null && !type.equals("none")) {
                throw new CheckpointException(src + " has both " + ROPE_FREQS + " and " + a + "rope.scaling.type '" + type
                        + "'; cohx cannot combine them");
            }
            float[] f;
            try (Arena arena = Arena.ofConfined()) {
                f = r.read(ROPE_FREQS, DType.F32, arena).toFloats();
            }
            return llama3FromFactors(f, theta, headDim, (int) k.integer(a + "rope.scaling.original_context_length", 8192L), src);
        }
        if (type == null || type.equals("none")) {
            return null;
        }
        var m = new LinkedHashMap<String, Object>();
        m.put("rope_type", type); // linear is read; yarn and others are refused by name by the config
        m.put("factor", factor);
        if (k.has(a + "rope.scaling.original_context_length")) {
            m.put("original_max_position_embeddings", (int) k.integer(a + "rope.scaling.original_context_length", null));
        }
        return m;
    }

    /** llama.cpp writes Llama 3.1's scaling with these band factors; they are what Meta's release uses. */
    static final double LLAMA3_LOW = 1.0;
    static final double LLAMA3_HIGH = 4.0;

    /**
     * Recognises {@code rope_freqs.weight} as Llama 3.1's scaling: its largest divisor is the
     * factor, and with the standard band factors (1, 4) and original context, recomputing the
     * divisors must give the tensor back.
     */
    static Map<String, Object> llama3FromFactors(float[] f, double theta, int headDim, int originalContext, Path src) {
        if (f.length != headDim / 2) {
            throw new CheckpointException(src + ": " + ROPE_FREQS + " has " + f.length + " values; a head size of " + headDim
                    + " needs " + headDim / 2);
        }
        double factor = 1;
        for (float x : f) {
            factor = Math.max(factor, x);
        }
        if (factor == 1) {
            return null;
        }
        float[] want = llama3Factors(theta, headDim, factor, LLAMA3_LOW, LLAMA3_HIGH, originalContext);
        for (int i = 0; i < f.length; i++) {
            if (Math.abs(want[i] - f[i]) > 1e-5 * Math.max(1, Math.abs(want[i]))) {
                throw new CheckpointException(src + ": " + ROPE_FREQS + " holds per-frequency rope factors that are not Llama 3.1's"
                        + " scaling (factor " + factor + ", low_freq_factor 1, high_freq_factor 4, original context "
                        + originalContext + "; differs at " + i + ": " + f[i] + " vs " + want[i]
                        + "); cohx implements rope scaling types linear and llama3");
            }
        }
        var m = new LinkedHashMap<String, Object>();
        m.put("rope_type", "llama3");
        m.put("factor", factor);
        m.put("low_freq_factor", LLAMA3_LOW);
        m.put("high_freq_factor", LLAMA3_HIGH);
        m.put("original_max_position_embeddings", originalContext);
        return m;
    }

    /** The divisor of each rotary frequency under Llama 3.1's scaling, as llama.cpp's converter computes them. */
    static float[] llama3Factors(double theta, int headDim, double factor, double low, double high, int originalContext) {
        float[] out = new float[headDim / 2];
        double lowWavelen = originalContext / low;
        double highWavelen = originalContext / high;
        for (int i = 0; i < out.length; i++) {
            double freq = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) {
                out[i] = 1;
            } else if (wavelen > lowWavelen) {
                out[i] = (float) factor;
            } else {
                double smooth = (originalContext / wavelen - low) / (high - low);
                out[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return out;
    }

    /**
     * The {@code general.*} and {@code llama.*} metadata for {@code config}, written as
     * {@code encoding} ({@code general.file_type}). Scaling of type linear becomes
     * {@code llama.rope.scaling.*} keys; llama3 becomes the {@link #ropeFreqs} tensor instead.
     */
    public static Map<String, GgufValue> metadata(ModelConfig config, String name, GgmlType encoding) {
        if (!(config instanceof LlamaConfig c)) {
            throw new CheckpointException("cohx writes GGUF for LLaMA-family models only, not " + config.modelType());
        }
        var m = new LinkedHashMap<String, GgufValue>();
        m.put("general.architecture", GgufValue.string("llama"));
        m.put("general.type", GgufValue.string("model"));
        m.put("general.name", GgufValue.string(name));
        m.put("llama.block_count", GgufValue.u32(config.numLayers()));
        m.put("llama.context_length", GgufValue.u32(config.maxPositions()));
        m.put("llama.embedding_length", GgufValue.u32(config.hiddenSize()));
        m.put("llama.feed_forward_length", GgufValue.u32(c.intermediateSize()));
        m.put("llama.attention.head_count", GgufValue.u32(config.numHeads()));
        m.put("llama.attention.head_count_kv", GgufValue.u32(config.numKvHeads()));
        m.put("llama.rope.freq_base", GgufValue.f32((float) c.ropeTheta()));
        m.put("llama.attention.layer_norm_rms_epsilon", GgufValue.f32((float) c.rmsNormEps()));
        if (config.headDim() * config.numHeads() != config.hiddenSize()) {
            m.put("llama.attention.key_length", GgufValue.u32(config.headDim()));
            m.put("llama.attention.value_length", GgufValue.u32(config.headDim()));
        }
        m.put("general.file_type", GgufValue.u32(FILE_TYPES.get(encoding)));
        m.put("llama.vocab_size", GgufValue.u32(config.vocabSize()));
        m.put("llama.rope.dimension_count", GgufValue.u32(config.headDim()));
        if (c.ropeScaling() instanceof RopeScaling.Linear linear) {
            m.put("llama.rope.scaling.type", GgufValue.string("linear"));
            m.put("llama.rope.scaling.factor", GgufValue.f32((float) linear.factor()));
        }
        m.put("general.quantization_version", GgufValue.u32(2));
        return m;
    }

    /** The rope_freqs tensor Llama 3.1-style scaling needs in a GGUF file, or null when the config has none. */
    public static HostTensor ropeFreqs(ModelConfig config) {
        if (!(config instanceof LlamaConfig c) || !(c.ropeScaling() instanceof RopeScaling.Llama3 rs)) {
            return null;
        }
        float[] f = llama3Factors(c.ropeTheta(), config.headDim(), rs.factor(), rs.lowFreqFactor(), rs.highFreqFactor(),
                rs.originalMaxPositions());
        return HostTensor.ofFloats(ROPE_FREQS, new long[] {f.length}, f);
    }
}
