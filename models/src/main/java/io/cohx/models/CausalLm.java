package io.cohx.models;

import io.cohx.engine.ArrayType;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
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
    Tensor logits(Tree<Tensor> params, Tensor inputIds, ForwardOptions options);

    /** Whether weight decay applies to the parameter at {@code path} (GPT-J: not to norms and biases). */
    boolean decays(String path);

    /** How the parameters are laid over a (dp, fsdp, mp) mesh. */
    PartitionRules partitionRules();
}
