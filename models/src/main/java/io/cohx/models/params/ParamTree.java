package io.cohx.models.params;

import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.config.GptjConfig;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.config.ModelConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The canonical parameter tree of a model: every parameter's path and shape, in a fixed order.
 * Paths are the reference's flax paths joined with dots ({@code transformer.wte.embedding},
 * {@code transformer.h.3.attention.wq.kernel}, {@code lm_head.kernel}), so streaming checkpoints
 * of the original trainer map one to one; kernels are {@code [in, out]} as in flax.
 */
public final class ParamTree {
    private final Map<String, ParamSpec> byPath = new LinkedHashMap<>();

    private ParamTree(List<ParamSpec> specs) {
        for (ParamSpec s : specs) {
            byPath.put(s.path(), s);
        }
    }

    /** The tree of {@code config}'s model. */
    public static ParamTree of(ModelConfig config) {
        return switch (config) {
            case LlamaConfig c -> llama(c);
            case GptjConfig c -> gptj(c);
        };
    }

    static ParamTree llama(LlamaConfig c) {
        long d = c.hiddenSize();
        long f = c.intermediateSize();
        long v = c.vocabSize();
        long q = (long) c.numAttentionHeads() * c.headDim();
        long kv = (long) c.numKvHeads() * c.headDim();
        var l = new ArrayList<ParamSpec>();
        l.add(new ParamSpec("transformer.wte.embedding", new long[] {v, d}));
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            String b = "transformer.h." + i + ".";
            l.add(new ParamSpec(b + "attention.wq.kernel", new long[] {d, q}));
            l.add(new ParamSpec(b + "attention.wk.kernel", new long[] {d, kv}));
            l.add(new ParamSpec(b + "attention.wv.kernel", new long[] {d, kv}));
            l.add(new ParamSpec(b + "attention.wo.kernel", new long[] {q, d}));
            l.add(new ParamSpec(b + "feed_forward.w1.kernel", new long[] {d, f}));
            l.add(new ParamSpec(b + "feed_forward.w2.kernel", new long[] {f, d}));
            l.add(new ParamSpec(b + "feed_forward.w3.kernel", new long[] {d, f}));
            l.add(new ParamSpec(b + "attention_norm.kernel", new long[] {d}));
            l.add(new ParamSpec(b + "ffn_norm.kernel", new long[] {d}));
        }
        l.add(new ParamSpec("transformer.ln_f.kernel", new long[] {d}));
        if (!c.tieWordEmbeddings()) {
            l.add(new ParamSpec("lm_head.kernel", new long[] {d, v}));
        }
        return new ParamTree(l);
    }

    static ParamTree gptj(GptjConfig c) {
        long d = c.nEmbd();
        long f = c.innerDim();
        long v = c.vocabSize();
        var l = new ArrayList<ParamSpec>();
        l.add(new ParamSpec("transformer.wte.embedding", new long[] {v, d}));
        for (int i = 0; i < c.nLayer(); i++) {
            String b = "transformer.h." + i + ".";
            l.add(new ParamSpec(b + "ln_1.scale", new long[] {d}));
            l.add(new ParamSpec(b + "ln_1.bias", new long[] {d}));
            for (String w : List.of("q_proj", "k_proj", "v_proj", "out_proj")) {
                l.add(new ParamSpec(b + "attn." + w + ".kernel", new long[] {d, d}));
            }
            l.add(new ParamSpec(b + "mlp.fc_in.kernel", new long[] {d, f}));
            l.add(new ParamSpec(b + "mlp.fc_in.bias", new long[] {f}));
            l.add(new ParamSpec(b + "mlp.fc_out.kernel", new long[] {f, d}));
            l.add(new ParamSpec(b + "mlp.fc_out.bias", new long[] {d}));
        }
        l.add(new ParamSpec("transformer.ln_f.scale", new long[] {d}));
        l.add(new ParamSpec("transformer.ln_f.bias", new long[] {d}));
        if (!c.tieWordEmbeddings()) {
            l.add(new ParamSpec("lm_head.kernel", new long[] {d, v}));
            l.add(new ParamSpec("lm_head.bias", new long[] {v}));
        }
        return new ParamTree(l);
    }

    /** Every parameter in canonical order. */
    public List<ParamSpec> params() {
        return Collections.unmodifiableList(new ArrayList<>(byPath.values()));
    }

    /** The parameter at {@code path}, or null. */
    public ParamSpec get(String path) {
        return byPath.get(path);
    }

    public int size() {
        return byPath.size();
    }

    /** Total parameter count. */
    public long numel() {
        return byPath.values().stream().mapToLong(ParamSpec::numel).sum();
    }

    /**
     * Checks that tensor {@code externalName} of {@code source}, which becomes parameter
     * {@code path}, has the shape the config expects ({@code expected}, in that format's layout);
     * the error names the tensor and both shapes.
     */
    public static void checkShape(String externalName, long[] actual, long[] expected, String path, Object source) {
        if (!Arrays.equals(expected, actual)) {
            throw new CheckpointException("tensor '" + externalName + "' in " + source + " has shape "
                    + Arrays.toString(actual) + ", but the model config expects " + Arrays.toString(expected)
                    + (externalName.equals(path) ? "" : " (for " + path + ")")
                    + "; check that the config (sizes, layers, vocabulary) belongs to these weights");
        }
    }
}
