package io.cohx.models.llama;

import io.cohx.engine.ArrayType;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.engine.mesh.Mesh;
import io.cohx.engine.mesh.MeshException;
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
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.params.ParamTree;

/**
 * LLaMA as the reference trainer defines it (docs/COH.md#presets), and the family that grew from it
 * (Llama 2/3, Mistral, TinyLlama, SmolLM) by configuration: token embedding; per block RMSNorm →
 * attention with interleaved-pair rotary embeddings (base and scaling from the config; key/value
 * heads shared by groups of query heads when there are fewer of them; any head size) → residual,
 * RMSNorm → SwiGLU MLP ({@code w2(silu(w1 x) · w3 x)}) → residual; final RMSNorm; untied head, or
 * the embedding transposed when tied. Parameters use the canonical flax paths of
 * {@link ParamTree}; the layers are unrolled.
 */
public final class Llama implements CausalLm {
    private final LlamaConfig config;
    private final Tree<ArrayType> types;

    public Llama(LlamaConfig config) {
        this.config = config;
        this.types = ParamInit.types(ParamTree.of(config));
    }

    @Override
    public LlamaConfig config() {
        return config;
    }

    @Override
    public Tree<ArrayType> paramTypes() {
        return types;
    }

    @Override
    public Tree<Tensor> init(Tensor key) {
        return ParamInit.init(types, key, config.initializerRange(),
                path -> path.endsWith("norm.kernel") || path.equals("transformer.ln_f.kernel")
                        ? ParamInit.Kind.ONES : ParamInit.Kind.NORMAL);
    }

    @Override
    public LmHead head(Tree<Tensor> params, Tensor inputIds, ForwardOptions options) {
        LlamaConfig c = config;
        ForwardPass pass = ForwardPass.of(c, inputIds, options, c.embdPdrop(), c.residPdrop(), c.attnPdrop());
        SelfAttention attn = SelfAttention.full(pass, inputIds.dim(1), rope(), c.attnPdrop());
        return forward(params, inputIds, pass, attn);
    }

    @Override
    public Step decode(Tree<Tensor> params, Tree<Tensor> cache, Tensor tokens, Tensor column, Tensor start, ForwardOptions options) {
        ForwardPass pass = ForwardPass.of(config, tokens, ForwardOptions.EVAL.withDtype(options.computeDtype()));
        KvCache kv = new KvCache(cache, tokens.dim(1), column, start, rope());
        return new Step(forward(params, tokens, pass, kv), kv.updated());
    }

    private Rope rope() {
        return new Rope(config.headDim(), config.ropeTheta(), config.ropeScaling());
    }

    private LmHead forward(Tree<Tensor> params, Tensor inputIds, ForwardPass pass, SelfAttention attn) {
        LlamaConfig c = config;
        Tensor wte = params.get("transformer.wte.embedding");
        Tensor x = Layers.embed(wte, inputIds, pass.dtype());
        x = pass.dropout(x, c.embdPdrop(), "embd", -1);
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            int layer = i;
            x = pass.block(x, params.subtree("transformer.h." + i), (h, p) -> block(h, p, layer, pass, attn));
        }
        x = Layers.rmsNorm(x, params.get("transformer.ln_f.kernel"), c.rmsNormEps());
        Tensor head = c.tieWordEmbeddings() ? wte.transpose(1, 0) : params.get("lm_head.kernel");
        return new LmHead(x, head, null);
    }

    private Tensor block(Tensor x, Tree<Tensor> p, int layer, ForwardPass pass, SelfAttention attn) {
        LlamaConfig c = config;
        int b = x.dim(0);
        int s = x.dim(1);
        int heads = c.numAttentionHeads();
        int kvHeads = c.numKvHeads();
        int hd = c.headDim();
        Tensor h = Layers.rmsNorm(x, p.get("attention_norm.kernel"), c.rmsNormEps());
        Tensor q = attn.rotate(Layers.dense(h, p.get("attention.wq.kernel")).reshape(b, s, heads, hd));
        Tensor k = attn.rotate(Layers.dense(h, p.get("attention.wk.kernel")).reshape(b, s, kvHeads, hd));
        Tensor v = Layers.dense(h, p.get("attention.wv.kernel")).reshape(b, s, kvHeads, hd);
        Tensor a = attn.attend(layer, q, k, v);
        a = Layers.dense(a.reshape(b, s, heads * hd), p.get("attention.wo.kernel"));
        x = x.add(pass.dropout(a, c.residPdrop(), "attn_out", layer));
        Tensor m = Layers.rmsNorm(x, p.get("ffn_norm.kernel"), c.rmsNormEps());
        Tensor gate = Layers.silu(Layers.dense(m, p.get("feed_forward.w1.kernel")));
        Tensor up = Layers.dense(m, p.get("feed_forward.w3.kernel"));
        Tensor f = Layers.dense(gate.mul(up), p.get("feed_forward.w2.kernel"));
        return x.add(pass.dropout(f, c.residPdrop(), "mlp_out", layer));
    }

    /** LLaMA decays every parameter (the reference excludes none). */
    @Override
    public boolean decays(String path) {
        return true;
    }

    @Override
    public PartitionRules partitionRules() {
        return PartitionRules.LLAMA;
    }

    /**
     * With grouped-query attention the mp axis splits wk/wv by columns, so it must split whole
     * key/value heads: a head cut between devices would make every attention step gather it back.
     * (Multi-head models keep the reference's behaviour: any mp that divides the shapes.)
     */
    @Override
    public void checkMesh(Mesh mesh) {
        int mp = mesh.axisSize("mp");
        int kv = config.numKvHeads();
        if (kv < config.numAttentionHeads() && kv % mp != 0) {
            throw new MeshException("LLaMA with " + kv + " key/value heads (num_key_value_heads) cannot split them over mp = "
                    + mp + " of mesh " + mesh + "; use an mp that divides " + kv + " (or put the devices on dp/fsdp)");
        }
    }
}
