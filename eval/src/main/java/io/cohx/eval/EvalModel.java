package io.cohx.eval;

import io.cohx.engine.DType;
import io.cohx.engine.Tree;
import io.cohx.models.CausalLm;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.pjrt.PjrtClient;

/**
 * The model an evaluation runs: the network, its parameters (host or device arrays), its
 * tokenizer, the PJRT client, the compute dtype, and a description of where it came from
 * (checkpoint folder and step, or random weights) that goes into every result.
 */
public record EvalModel(CausalLm model, Tree<?> params, Tokenizer tokenizer, PjrtClient client, DType dtype, String source) {

    public EvalModel {
        if (tokenizer.vocabSize() > model.config().vocabSize()) {
            throw new EvalException("the tokenizer has " + tokenizer.vocabSize() + " ids but the model's vocab_size is "
                    + model.config().vocabSize() + "; pass the model's own --tokenizer");
        }
    }

    /** The token the model reads first: the tokenizer's bos, else the model config's (as the trainer does). */
    public int bos() {
        return tokenizer.bosId() >= 0 ? tokenizer.bosId() : model.config().bosTokenId();
    }

    /** "fp32" / "bf16" / "fp16" to a dtype, or an error naming the flag. */
    public static DType dtype(String name) {
        return switch (name) {
            case "fp32", "f32", "float32" -> DType.F32;
            case "bf16", "bfloat16" -> DType.BF16;
            case "fp16", "f16", "float16" -> DType.F16;
            default -> throw new EvalException("--dtype " + name + ": use fp32, bf16 or fp16");
        };
    }
}
