package io.cohx.models;

import io.cohx.engine.DType;
import io.cohx.engine.Dot;
import io.cohx.engine.Indexing;
import io.cohx.engine.Tensor;

/**
 * The building blocks LLaMA and GPT-J share, written against the engine. Parameters are f32 and
 * are cast to the compute dtype where they are used; norms compute their statistics in f32 and
 * cast the result back, as the reference's flax modules do, so bf16/f16 runs keep f32 accuracy
 * where it matters (normalisation, softmax, accumulation of products).
 */
public final class Layers {
    private Layers() {}

    /** Rows {@code ids} of an f32 embedding table, in {@code dtype}. */
    public static Tensor embed(Tensor table, Tensor ids, DType dtype) {
        return Indexing.take(table, ids).convert(dtype);
    }

    /**
     * {@code x · kernel} with {@code kernel [in, out]} cast to {@code x}'s dtype; products are
     * accumulated in f32 and the result has dtype {@code out} (x's dtype, or f32 for logits).
     */
    public static Tensor dense(Tensor x, Tensor kernel, DType out) {
        DType dt = x.dtype();
        Tensor y = Dot.matmul(x, kernel.convert(dt), DType.F32);
        return y.convert(out);
    }

    /** {@link #dense(Tensor, Tensor, DType)} in x's dtype. */
    public static Tensor dense(Tensor x, Tensor kernel) {
        return dense(x, kernel, x.dtype());
    }

    /** {@code x · kernel + bias}, bias cast to the result dtype. */
    public static Tensor dense(Tensor x, Tensor kernel, Tensor bias, DType out) {
        return dense(x, kernel, out).add(bias.convert(out));
    }

    /** RMSNorm over the last axis: {@code x / sqrt(mean(x²) + eps)} in f32, cast back, times the weight. */
    public static Tensor rmsNorm(Tensor x, Tensor weight, double eps) {
        DType dt = x.dtype();
        Tensor xf = x.convert(DType.F32);
        Tensor ms = xf.square().mean(-1).expandDims(-1);
        Tensor normed = xf.mul(ms.add(eps).rsqrt()).convert(dt);
        return normed.mul(weight.convert(dt));
    }

    /** LayerNorm over the last axis with scale and bias; statistics in f32, result in x's dtype. */
    public static Tensor layerNorm(Tensor x, Tensor scale, Tensor bias, double eps) {
        DType dt = x.dtype();
        Tensor xf = x.convert(DType.F32);
        Tensor centred = xf.sub(xf.mean(-1).expandDims(-1));
        Tensor var = centred.square().mean(-1).expandDims(-1);
        Tensor normed = centred.mul(var.add(eps).rsqrt()).convert(dt);
        return normed.mul(scale.convert(dt)).add(bias.convert(dt));
    }

    /** SiLU (swish): {@code x · sigmoid(x)}. */
    public static Tensor silu(Tensor x) {
        return x.mul(x.logistic());
    }

    /**
     * GPT-2's {@code gelu_new}, the tanh approximation
     * {@code 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))}, which GPT-J was trained with (it
     * differs from the exact erf form by up to about 1e-3).
     */
    public static Tensor geluNew(Tensor x) {
        Tensor inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
        return x.mul(0.5).mul(inner.tanh().add(1.0));
    }
}
