package io.cohx.models.gguf;

import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.TensorOps;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.params.ParamSpec;
import io.cohx.models.params.ParamTree;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two-way mapping between cohx's canonical LLaMA parameters and llama.cpp's GGUF tensor names
 * ({@code token_embd.weight}, {@code blk.N.attn_q.weight}, ..., {@code output.weight}). Linear
 * weights are stored as PyTorch's {@code [out, in]} (ggml {@code ne = [in, out]}), so kernels are
 * transposed; embeddings and norm weights are copied.
 *
 * <p>No rotary permutation is needed: llama.cpp's converter permutes Hugging Face's q/k rows
 * (rotate-half layout) back to Meta's interleaved pairs, because llama.cpp rotates adjacent pairs
 * for LLaMA; cohx's canonical layout is Meta's too. So GGUF's q/k rows are already ours, and
 * {@code tiny-llama.gguf} (made with llama.cpp's permutation from the Hugging Face golden model)
 * reads back equal to the Hugging Face import of the same weights.
 */
public final class GgufNaming {

    /** One parameter: canonical path, GGUF name, whether it is transposed, shapes on both sides (row-major). */
    public record Entry(String path, String ggufName, boolean transpose, long[] shape, long[] ggufShape) {}

    private final Map<String, Entry> byPath = new LinkedHashMap<>();
    private final Map<String, Entry> byGguf = new LinkedHashMap<>();

    private GgufNaming(ParamTree tree) {
        for (ParamSpec p : tree.params()) {
            String g = ggufName(p.path());
            boolean t = p.path().endsWith(".kernel") && p.shape().length == 2;
            long[] s = p.shape();
            var e = new Entry(p.path(), g, t, s, t ? new long[] {s[1], s[0]} : s);
            byPath.put(p.path(), e);
            byGguf.put(g, e);
        }
    }

    public static GgufNaming of(ModelConfig config) {
        if (!(config instanceof LlamaConfig)) {
            throw new CheckpointException("GGUF holds LLaMA-family models for cohx; a " + config.modelType() + " model has no GGUF names");
        }
        return new GgufNaming(ParamTree.of(config));
    }

    public List<Entry> entries() {
        return Collections.unmodifiableList(new ArrayList<>(byPath.values()));
    }

    public Entry byPath(String path) {
        return byPath.get(path);
    }

    public Entry byGgufName(String name) {
        return byGguf.get(name);
    }

    /** GGUF tensors without a parameter that cohx accounts for elsewhere (rope_freqs becomes the config's rope_scaling). */
    public static boolean ignorable(String ggufName) {
        return ggufName.equals(GgufConfig.ROPE_FREQS);
    }

    /** The canonical tensor for GGUF tensor {@code t} (named {@code e.path()}). */
    public HostTensor fromGguf(Entry e, HostTensor t, Arena arena) {
        return e.transpose() ? TensorOps.transpose2d(t, e.path(), arena) : t.withName(e.path());
    }

    /** The GGUF tensor for canonical tensor {@code t} (named {@code e.ggufName()}). */
    public HostTensor toGguf(Entry e, HostTensor t, Arena arena) {
        return e.transpose() ? TensorOps.transpose2d(t, e.ggufName(), arena) : t.withName(e.ggufName());
    }

    private static final Map<String, String> BLOCK = Map.of(
            "attention.wq.kernel", "attn_q.weight",
            "attention.wk.kernel", "attn_k.weight",
            "attention.wv.kernel", "attn_v.weight",
            "attention.wo.kernel", "attn_output.weight",
            "feed_forward.w1.kernel", "ffn_gate.weight",
            "feed_forward.w2.kernel", "ffn_down.weight",
            "feed_forward.w3.kernel", "ffn_up.weight",
            "attention_norm.kernel", "attn_norm.weight",
            "ffn_norm.kernel", "ffn_norm.weight");

    static String ggufName(String path) {
        return switch (path) {
            case "transformer.wte.embedding" -> "token_embd.weight";
            case "transformer.ln_f.kernel" -> "output_norm.weight";
            case "lm_head.kernel" -> "output.weight";
            default -> {
                String prefix = "transformer.h.";
                int dot = path.indexOf('.', prefix.length());
                String rest = BLOCK.get(path.substring(dot + 1));
                if (!path.startsWith(prefix) || rest == null) {
                    throw new IllegalStateException("no GGUF name for parameter " + path);
                }
                yield "blk." + path.substring(prefix.length(), dot) + "." + rest;
            }
        };
    }
}
