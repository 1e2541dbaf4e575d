package io.cohx.models;

import io.cohx.engine.ArrayType;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.engine.mesh.Mesh;
import io.cohx.engine.mesh.PartitionRules;
import io.cohx.models.config.GptjConfig;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.gptj.Gptj;
import io.cohx.models.llama.Llama;

/**
 * A causal language model cohx trains and serves (LLaMA, GPT-J), as traced engine code: the
 * trainer, the server and the evaluator only use this interface. Parameters are a tree with the
 * canonical paths of {@link io.cohx.models.params.ParamTree}, kept in f32; compute may run in
 * bf16/f16 ({@link ForwardOptions#computeDtype()}). Implementations are immutable.
 */
public interface CausalLm {

    /** The model of {@code config}: {@link Llama} or {@link Gptj}. */
    static CausalLm of(ModelConfig config) {
        return switch (config) {
            case LlamaConfig c -> new Llama(c);
            case GptjConfig c -> new Gptj(c);
        };
    }

    ModelConfig config();

    /** Parameter paths and types (f32), in canonical order. */
    Tree<ArrayType> paramTypes();

    /**
     * Fresh parameters from {@code key} (an engine RNG key), traced so the same key gives the same
     * values on one device and sharded: normal(0, initializer_range) weights, norms one, biases zero.
     */
    Tree<Tensor> init(Tensor key);

    /** Logits {@code f32[B,S,V]} for input ids {@code s32[B,S]} (no KV cache; training and scoring). */
    default Tensor logits(Tree<Tensor> params, Tensor inputIds, ForwardOptions options) {
        return head(params, inputIds, options).logits();
    }

    /**
     * The final hidden states and output projection for input ids {@code s32[B,S]}, from which
     * {@link #logits} are made; the loss uses it to make them a chunk at a time.
     */
    LmHead head(Tree<Tensor> params, Tensor inputIds, ForwardOptions options);

    /**
     * The KV cache of {@link #decode}: per block {@code h.<i>.k} and {@code h.<i>.v}, each
     * {@code [batch, length, heads, head_dim]} in {@code dtype} (the compute dtype). Zeros are a
     * valid empty cache; see {@link KvCache} for the left-padded layout.
     */
    default Tree<ArrayType> cacheTypes(int batch, int length, io.cohx.engine.DType dtype) {
        return KvCache.types(config(), batch, length, dtype);
    }

    /**
     * One cached step (prefill when S > 1, a decode step when S = 1): logits {@code f32[B,S,V]}
     * for {@code tokens s32[B,S]} written at cache columns {@code column..column+S-1} of rows
     * whose first real token is at column {@code start s32[B]} (left padding; positions are
     * {@code column - start}), and the updated cache. {@code column} is an s32 scalar, or s32[B]
     * when each row writes at its own column (continuous batching). The logits equal those of {@link #logits}
     * on the unpadded rows. Runs in inference mode whatever {@code options.train()} says.
     */
    Step decode(Tree<Tensor> params, Tree<Tensor> cache, Tensor tokens, Tensor column, Tensor start, ForwardOptions options);

    /**
     * The result of {@link #decode}: the final hidden states with the output projection, and the
     * updated cache. A prefill usually wants the next token after its last position only, so it
     * applies the head there ({@link LmHead#on}) instead of making {@code [B, S, V]} logits: with a
     * large vocabulary the projection of every position costs more than the blocks themselves.
     */
    record Step(LmHead head, Tree<Tensor> cache) {
        /** Logits {@code f32[B,S,V]} at every position. */
        public Tensor logits() {
            return head.logits();
        }
    }

    /** Whether weight decay applies to the parameter at {@code path} (GPT-J: not to norms and biases). */
    boolean decays(String path);

    /** How the parameters are laid over a (dp, fsdp, mp) mesh. */
    PartitionRules partitionRules();

    /**
     * Refuses a mesh the partition rules lay this model over badly, with a
     * {@link io.cohx.engine.mesh.MeshException}
     * that says what to change; call it before compiling for {@code mesh}. Any mesh by default.
     */
    default void checkMesh(Mesh mesh) {}
}
