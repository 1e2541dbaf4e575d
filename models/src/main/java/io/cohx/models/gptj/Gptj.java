package io.cohx.models.gptj;

import io.cohx.engine.ArrayType;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.engine.mesh.PartitionRules;
import io.cohx.models.CausalLm;
import io.cohx.models.ForwardOptions;
import io.cohx.models.ForwardPass;
import io.cohx.models.Layers;
import io.cohx.models.LmHead;
import io.cohx.models.ParamInit;
import io.cohx.models.KvCache;
import io.cohx.models.Rope;
import io.cohx.models.SelfAttention;
import io.cohx.models.config.GptjConfig;
import io.cohx.models.params.ParamTree;

/**
 * GPT-J (docs/COH.md#presets): token embedding; per block one LayerNorm (with bias) feeding attention
 * and the MLP in parallel, both added to the residual; attention without biases, rotary on the
 * first {@code rotary_dim} dims of each head (interleaved pairs); MLP {@code fc_out(gelu_new(fc_in
 * x))} with biases; final LayerNorm; head with bias over all {@code vocab_size} rows (50400 for
 * 6B: the rows past the tokenizer's 50257 tokens are padding that training pushes down).
 */
public final class Gptj implements CausalLm {
    /** GPT-J's rotary base (fixed in the reference and in Hugging Face's implementation). */
    private static final double ROPE_THETA = 10000.0;

    private final GptjConfig config;
    private final Tree<ArrayType> types;

    public Gptj(GptjConfig config) {
        this.config = config;
        this.types = ParamInit.types(ParamTree.of(config));
    }

    @Override
    public GptjConfig config() {
        return config;
    }

    @Override
    public Tree<ArrayType> paramTypes() {
        return types;
    }

    @Override
    public Tree<Tensor> init(Tensor key) {
        return ParamInit.init(types, key, config.initializerRange(), path -> {
            if (path.endsWith(".bias")) {
                return ParamInit.Kind.ZEROS;
            }
            return path.endsWith(".scale") ? ParamInit.Kind.ONES : ParamInit.Kind.NORMAL;
        });
    }

    @Override
    public LmHead head(Tree<Tensor> params, Tensor inputIds, ForwardOptions options) {
        GptjConfig c = config;
        ForwardPass pass = ForwardPass.of(c, inputIds, options, c.embdPdrop(), c.residPdrop(), c.attnPdrop());
        SelfAttention attn = SelfAttention.full(pass, inputIds.dim(1), Rope.of(c.rotaryDim(), ROPE_THETA), c.attnPdrop());
        return forward(params, inputIds, pass, attn);
    }

    @Override
    public Step decode(Tree<Tensor> params, Tree<Tensor> cache, Tensor tokens, Tensor column, Tensor start, ForwardOptions options) {
        ForwardPass pass = ForwardPass.of(config, tokens, ForwardOptions.EVAL.withDtype(options.computeDtype()));
        KvCache kv = new KvCache(cache, tokens.dim(1), column, start, Rope.of(config.rotaryDim(), ROPE_THETA));
        return new Step(forward(params, tokens, pass, kv), kv.updated());
    }

    private LmHead forward(Tree<Tensor> params, Tensor inputIds, ForwardPass pass, SelfAttention attn) {
        GptjConfig c = config;
        Tensor wte = params.get("transformer.wte.embedding");
        Tensor x = Layers.embed(wte, inputIds, pass.dtype());
        x = pass.dropout(x, c.embdPdrop(), "embd", -1);
        for (int i = 0; i < c.nLayer(); i++) {
            int layer = i;
            x = pass.block(x, params.subtree("transformer.h." + i), (h, p) -> block(h, p, layer, pass, attn));
        }
        x = Layers.layerNorm(x, params.get("transformer.ln_f.scale"), params.get("transformer.ln_f.bias"),
                c.layerNormEpsilon());
        if (c.tieWordEmbeddings()) {
            return new LmHead(x, wte.transpose(1, 0), null);
        }
        return new LmHead(x, params.get("lm_head.kernel"), params.get("lm_head.bias"));
    }

    private Tensor block(Tensor x, Tree<Tensor> p, int layer, ForwardPass pass, SelfAttention attn) {
        GptjConfig c = config;
        int b = x.dim(0);
        int s = x.dim(1);
        int heads = c.nHead();
        int hd = c.nEmbd() / heads;
        Tensor h = Layers.layerNorm(x, p.get("ln_1.scale"), p.get("ln_1.bias"), c.layerNormEpsilon());
        Tensor q = attn.rotate(Layers.dense(h, p.get("attn.q_proj.kernel")).reshape(b, s, heads, hd));
        Tensor k = attn.rotate(Layers.dense(h, p.get("attn.k_proj.kernel")).reshape(b, s, heads, hd));
        Tensor v = Layers.dense(h, p.get("attn.v_proj.kernel")).reshape(b, s, heads, hd);
        Tensor a = attn.attend(layer, q, k, v);
        a = Layers.dense(a.reshape(b, s, c.nEmbd()), p.get("attn.out_proj.kernel"));
        a = pass.dropout(a, c.residPdrop(), "attn_out", layer);
        Tensor f = Layers.geluNew(Layers.dense(h, p.get("mlp.fc_in.kernel"), p.get("mlp.fc_in.bias"), h.dtype()));
        f = Layers.dense(f, p.get("mlp.fc_out.kernel"), p.get("mlp.fc_out.bias"), h.dtype());
        f = pass.dropout(f, c.residPdrop(), "mlp_out", layer);
        return a.add(f).add(x); // the reference's order of the sums
    }

    /** GPT-J excludes LayerNorm scales/biases and every bias from weight decay, as the reference. */
    @Override
    public boolean decays(String path) {
        return !(path.endsWith(".bias") || path.contains(".ln_") || path.startsWith("ln_"));
    }

    @Override
    public PartitionRules partitionRules() {
        return PartitionRules.GPTJ;
    }
}
