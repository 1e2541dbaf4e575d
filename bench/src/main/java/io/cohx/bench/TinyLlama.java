package io.cohx.bench;

import io.cohx.engine.Autodiff;
import io.cohx.engine.Constants;
import io.cohx.engine.DType;
import io.cohx.engine.Dot;
import io.cohx.engine.Indexing;
import io.cohx.engine.Jit;
import io.cohx.engine.ArrayType;
import io.cohx.engine.Shape;
import io.cohx.engine.Shapes;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.engine.mesh.PartitionSpec;

import java.util.List;

/**
 * A LLaMA-shaped decoder written directly with the engine, only to measure the engine (trace,
 * differentiate, emit, compile) on a realistic training step: token embedding, RMSNorm, rotary
 * attention with a causal mask, SwiGLU MLP, tied-off LM head, cross-entropy, SGD. The real model
 * lives in the models module.
 */
record TinyLlama(int layers, int hidden, int intermediate, int heads, int vocab, int seq, int batch) {

    static final PartitionSpec ACTIVATIONS = PartitionSpec.ofGroups(List.of(List.of("dp", "fsdp"), List.of(), List.of("mp")));

    static TinyLlama llama7b(int seq) {
        return new TinyLlama(32, 4096, 11008, 32, 32000, seq, 1);
    }

    static TinyLlama debug() {
        return new TinyLlama(2, 128, 256, 4, 32000, 64, 1);
    }

    /** Parameter types by path, in model order. */
    Tree<ArrayType> paramTypes() {
        Tree<ArrayType> t = Tree.of("embed", ArrayType.of(DType.F32, vocab, hidden));
        for (int i = 0; i < layers; i++) {
            String l = "layers." + i + ".";
            t = t.with(l + "attn_norm", ArrayType.of(DType.F32, hidden))
                    .with(l + "wq", ArrayType.of(DType.F32, hidden, hidden))
                    .with(l + "wk", ArrayType.of(DType.F32, hidden, hidden))
                    .with(l + "wv", ArrayType.of(DType.F32, hidden, hidden))
                    .with(l + "wo", ArrayType.of(DType.F32, hidden, hidden))
                    .with(l + "mlp_norm", ArrayType.of(DType.F32, hidden))
                    .with(l + "w1", ArrayType.of(DType.F32, hidden, intermediate))
                    .with(l + "w3", ArrayType.of(DType.F32, hidden, intermediate))
                    .with(l + "w2", ArrayType.of(DType.F32, intermediate, hidden));
        }
        return t.with("final_norm", ArrayType.of(DType.F32, hidden)).with("lm_head", ArrayType.of(DType.F32, hidden, vocab));
    }

    /** Inputs of the train step: params, tokens and targets. */
    Tree<ArrayType> stepInputs() {
        return Tree.<ArrayType>empty().nest("params", paramTypes())
                .with("tokens", ArrayType.of(DType.S32, batch, seq))
                .with("targets", ArrayType.of(DType.S32, batch, seq));
    }

    static Tensor rmsNorm(Tensor x, Tensor w) {
        Tensor ms = x.square().mean(-1).expandDims(-1);
        return x.mul(ms.add(1e-6).rsqrt()).mul(w);
    }

    private Tensor rope(Tensor x, Tensor cos, Tensor sin) {
        int half = x.dim(3) / 2;
        Tensor x1 = x.slice(3, 0, half);
        Tensor x2 = x.slice(3, half, 2 * half);
        return Shapes.concatenate(3, x1.mul(cos).sub(x2.mul(sin)), x2.mul(cos).add(x1.mul(sin)));
    }

    Tensor loss(Tree<Tensor> p, Tensor tokens, Tensor targets) {
        int hd = hidden / heads;
        Tensor pos = Shapes.iota(DType.F32, Shape.of(seq, hd / 2), 0);
        Tensor freq = Shapes.iota(DType.F32, Shape.of(seq, hd / 2), 1).mul(-2.0 / hd * Math.log(10000)).exp();
        Tensor angle = pos.mul(freq).reshape(seq, 1, hd / 2);
        Tensor cos = angle.cos();
        Tensor sin = angle.sin();
        Tensor causal = Shapes.iota(DType.S32, Shape.of(seq, seq), 0).ge(Shapes.iota(DType.S32, Shape.of(seq, seq), 1));
        // Under a mesh keep the residual stream and logits split as the original trainer does:
        // batch rows over (dp, fsdp), features over mp (no-ops without a mesh).
        Tensor x = Jit.shardingConstraint(Indexing.take(p.get("embed"), tokens), ACTIVATIONS);
        for (int i = 0; i < layers; i++) {
            Tree<Tensor> l = p.subtree("layers." + i);
            Tensor h = rmsNorm(x, l.get("attn_norm"));
            Tensor q = rope(h.matmul(l.get("wq")).reshape(batch, seq, heads, hd), cos, sin);
            Tensor k = rope(h.matmul(l.get("wk")).reshape(batch, seq, heads, hd), cos, sin);
            Tensor v = h.matmul(l.get("wv")).reshape(batch, seq, heads, hd);
            Tensor scores = Dot.einsum("bqhd,bkhd->bhqk", q, k).mul(1 / Math.sqrt(hd));
            scores = causal.select(scores, Constants.scalar(-1e9, DType.F32));
            Tensor attn = Dot.einsum("bhqk,bkhd->bqhd", scores.softmax(-1), v).reshape(batch, seq, hidden);
            x = x.add(attn.matmul(l.get("wo")));
            Tensor m = rmsNorm(x, l.get("mlp_norm"));
            Tensor gate = m.matmul(l.get("w1"));
            Tensor up = m.matmul(l.get("w3"));
            x = Jit.shardingConstraint(x.add(gate.mul(gate.logistic()).mul(up).matmul(l.get("w2"))), ACTIVATIONS);
        }
        Tensor logits = Jit.shardingConstraint(rmsNorm(x, p.get("final_norm")).matmul(p.get("lm_head")), ACTIVATIONS);
        Tensor logp = Indexing.takeAlongAxis(logits.logSoftmax(-1), targets.expandDims(-1), -1);
        return logp.mean().neg();
    }

    /** One SGD training step: new params and the loss. */
    Tree<Tensor> trainStep(Tree<Tensor> in, double lr) {
        var vg = Autodiff.valueAndGrad(p -> loss(p, in.get("tokens"), in.get("targets")), in.subtree("params"));
        Tree<Tensor> updated = in.subtree("params").zip(vg.grad(), (w, g) -> w.sub(g.mul(lr)));
        return Tree.of("loss", vg.value()).nest("params", updated);
    }

    /** The step's inputs, seeded: norms 1, other parameters N(0, 0.02), token ids uniform over the vocabulary. */
    Tree<Object> randomInputs() {
        java.util.Random r = new java.util.Random(1);
        Tree<Object> in = Tree.empty();
        for (String path : stepInputs().paths()) {
            io.cohx.engine.NdArray a = io.cohx.engine.NdArray.zeros(stepInputs().get(path));
            for (long i = 0; i < a.size(); i++) {
                a.set(i, path.startsWith("params") ? (path.endsWith("norm") ? 1 : 0.02 * r.nextGaussian()) : r.nextInt(vocab));
            }
            in = in.with(path, a);
        }
        return in;
    }
}
