package io.cohx.models.params;

import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.TensorOps;
import io.cohx.models.config.GptjConfig;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.config.ModelConfig;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The two-way mapping between cohx's canonical parameters and Hugging Face's
 * {@code LlamaForCausalLM} / {@code GPTJForCausalLM} state dicts. Linear kernels are transposed
 * (flax {@code [in, out]}, PyTorch {@code [out, in]}); LLaMA's q/k rows are also reordered
 * between interleaved-pair and rotate-half rotary layouts ({@link RotaryLayout}, per query head for
 * q and per key/value head for k); embeddings, norms and biases are copied as they are. With tied
 * embeddings there is no {@code lm_head.weight} on either side.
 */
public final class HfNaming {

    /** How a tensor changes between the two layouts. */
    public enum Layout { SAME, TRANSPOSE, TRANSPOSE_ROTARY }

    /** One parameter: canonical path, HF name, layout change, and shapes on both sides. */
    public record Entry(String path, String hfName, Layout layout, long[] shape, long[] hfShape) {}

    /** HF tensors that carry no weights of ours (rotary caches, attention-mask buffers); skipped on import. */
    private static final Pattern IGNORED = Pattern.compile(
            ".*(rotary_emb\\.inv_freq|attn\\.bias|attn\\.masked_bias)$");

    private final ModelConfig config;
    private final Map<String, Entry> byPath = new LinkedHashMap<>();
    private final Map<String, Entry> byHf = new LinkedHashMap<>();

    private HfNaming(ModelConfig config, ParamTree tree) {
        this.config = config;
        for (ParamSpec p : tree.params()) {
            String hf = hfName(config, p.path());
            Layout layout = layoutOf(config, p.path());
            long[] s = p.shape();
            long[] hs = layout == Layout.SAME ? s : new long[] {s[1], s[0]};
            var e = new Entry(p.path(), hf, layout, s, hs);
            byPath.put(p.path(), e);
            byHf.put(hf, e);
        }
    }

    public static HfNaming of(ModelConfig config) {
        return new HfNaming(config, ParamTree.of(config));
    }

    /** Every entry, canonical order. */
    public List<Entry> entries() {
        return Collections.unmodifiableList(new ArrayList<>(byPath.values()));
    }

    public Entry byPath(String path) {
        return byPath.get(path);
    }

    public Entry byHfName(String hfName) {
        return byHf.get(hfName);
    }

    /**
     * Whether an HF tensor without a cohx counterpart may be skipped silently: buffers, and
     * {@code lm_head.weight} of a model with tied embeddings (transformers ties it to the
     * embedding on load whatever the file holds, and so does cohx).
     */
    public boolean ignorable(String hfName) {
        return IGNORED.matcher(hfName).matches() || (config.tieWordEmbeddings() && hfName.equals("lm_head.weight"));
    }

    /** The HF tensor for canonical tensor {@code t} (named {@code e.hfName()}). */
    public HostTensor toHf(Entry e, HostTensor t, Arena arena) {
        return switch (e.layout()) {
            case SAME -> t.withName(e.hfName());
            case TRANSPOSE -> TensorOps.transpose2d(t, e.hfName(), arena);
            case TRANSPOSE_ROTARY -> TensorOps.permuteRows(TensorOps.transpose2d(t, e.hfName(), arena),
                    RotaryLayout.interleavedToHalves(rotaryHeads(e), config.headDim()), arena);
        };
    }

    /** The canonical tensor for HF tensor {@code t} (named {@code e.path()}). */
    public HostTensor fromHf(Entry e, HostTensor t, Arena arena) {
        return switch (e.layout()) {
            case SAME -> t.withName(e.path());
            case TRANSPOSE -> TensorOps.transpose2d(t, e.path(), arena);
            case TRANSPOSE_ROTARY -> TensorOps.transpose2d(TensorOps.permuteRows(t,
                    RotaryLayout.halvesToInterleaved(rotaryHeads(e), config.headDim()), arena), e.path(), arena);
        };
    }

    /** Heads of a q or k projection: its output rows over the head size (fewer for k with grouped-query attention). */
    private int rotaryHeads(Entry e) {
        return (int) (e.hfShape()[0] / config.headDim());
    }

    private static Layout layoutOf(ModelConfig c, String path) {
        if (!path.endsWith(".kernel") || path.endsWith("norm.kernel") || path.equals("transformer.ln_f.kernel")) {
            return Layout.SAME; // embeddings, RMSNorm weights, LayerNorm scale/bias, biases
        }
        if (c instanceof LlamaConfig && (path.endsWith("attention.wq.kernel") || path.endsWith("attention.wk.kernel"))) {
            return Layout.TRANSPOSE_ROTARY;
        }
        return Layout.TRANSPOSE;
    }

    static String hfName(ModelConfig c, String path) {
        return switch (c) {
            case LlamaConfig l -> llamaName(path);
            case GptjConfig g -> gptjName(path);
        };
    }

    private static final Map<String, String> LLAMA_BLOCK = Map.of(
            "attention.wq.kernel", "self_attn.q_proj.weight",
            "attention.wk.kernel", "self_attn.k_proj.weight",
            "attention.wv.kernel", "self_attn.v_proj.weight",
            "attention.wo.kernel", "self_attn.o_proj.weight",
            "feed_forward.w1.kernel", "mlp.gate_proj.weight",
            "feed_forward.w2.kernel", "mlp.down_proj.weight",
            "feed_forward.w3.kernel", "mlp.up_proj.weight",
            "attention_norm.kernel", "input_layernorm.weight",
            "ffn_norm.kernel", "post_attention_layernorm.weight");

    private static String llamaName(String path) {
        switch (path) {
            case "transformer.wte.embedding" -> {
                return "model.embed_tokens.weight";
            }
            case "transformer.ln_f.kernel" -> {
                return "model.norm.weight";
            }
            case "lm_head.kernel" -> {
                return "lm_head.weight";
            }
            default -> {
                String[] p = splitBlock(path);
                return "model.layers." + p[0] + "." + LLAMA_BLOCK.get(p[1]);
            }
        }
    }

    private static String gptjName(String path) {
        switch (path) {
            case "transformer.wte.embedding" -> {
                return "transformer.wte.weight";
            }
            case "transformer.ln_f.scale" -> {
                return "transformer.ln_f.weight";
            }
            case "transformer.ln_f.bias", "lm_head.bias" -> {
                return path;
            }
            case "lm_head.kernel" -> {
                return "lm_head.weight";
            }
            default -> {
                String[] p = splitBlock(path);
                String rest = p[1].replace(".kernel", ".weight").replace("ln_1.scale", "ln_1.weight");
                return "transformer.h." + p[0] + "." + rest;
            }
        }
    }

    /** {@code transformer.h.3.attention.wq.kernel} → {@code ["3", "attention.wq.kernel"]}. */
    private static String[] splitBlock(String path) {
        String prefix = "transformer.h.";
        int dot = path.indexOf('.', prefix.length());
        return new String[] {path.substring(prefix.length(), dot), path.substring(dot + 1)};
    }
}
