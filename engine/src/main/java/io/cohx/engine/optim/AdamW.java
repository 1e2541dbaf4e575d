package io.cohx.engine.optim;

import io.cohx.engine.ArrayType;
import io.cohx.engine.Constants;
import io.cohx.engine.DType;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;

import java.util.function.Predicate;

/**
 * AdamW as the original "adamw" optimizer chains it: clip the gradients by global norm, Adam
 * moments with bias correction, decoupled weight decay on the parameters the mask selects, step
 * by {@code -lr}. Written with engine ops, so the update is part of the compiled train step. The
 * state tree is {@code mu.<path>}, {@code nu.<path>} (moments, f32 or bf16) and {@code count}.
 *
 * @param decayMask which parameter paths get weight decay (GPT-J excludes norms and biases)
 */
public record AdamW(double b1, double b2, double eps, double weightDecay, double clipNorm, boolean bf16Momentum,
                    Predicate<String> decayMask) implements Optimizer {

    /** The original's defaults: b1 0.9, b2 0.95, eps 1e-8, weight decay 1e-4, clipping 1.0, f32 moments, decay everywhere. */
    public static AdamW defaults() {
        return new AdamW(0.9, 0.95, 1e-8, 1e-4, 1.0, false, path -> true);
    }

    public AdamW withDecayMask(Predicate<String> mask) {
        return new AdamW(b1, b2, eps, weightDecay, clipNorm, bf16Momentum, mask);
    }

    /** First moments {@code mu.*} (f32 or bf16), second moments {@code nu.*} (f32), the step {@code count} (s32). */
    @Override
    public Tree<ArrayType> stateTypes(Tree<ArrayType> types) {
        DType md = bf16Momentum ? DType.BF16 : DType.F32;
        return Tree.<ArrayType>empty().nest("mu", types.map(t -> new ArrayType(md, t.shape())))
                .nest("nu", types.map(t -> new ArrayType(DType.F32, t.shape()))).with("count", ArrayType.of(DType.S32));
    }

    /** One update of {@code params} by {@code grads} at learning rate {@code lr} (an f32 scalar). */
    @Override
    public Update apply(Tree<Tensor> params, Tree<Tensor> grads, Tree<Tensor> state, Tensor lr) {
        Tensor norm = globalNorm(grads);
        // The clipping factor goes into the moments' scalar coefficients, not into a scaled copy of
        // every gradient: that copy fed two updates, so XLA kept it, and with all gradients live
        // before the update the step held the gradients twice.
        Tensor scale = clipScale(norm, clipNorm);
        Tensor a = scale.mul(1 - b1);
        Tensor c = scale.square().mul(1 - b2);
        Tensor count = state.get("count").add(Constants.scalar(1, DType.S32));
        Tensor t = count.convert(DType.F32);
        Tensor c1 = Constants.scalar(1, DType.F32).sub(Constants.scalar(b1, DType.F32).pow(t));
        Tensor c2 = Constants.scalar(1, DType.F32).sub(Constants.scalar(b2, DType.F32).pow(t));
        Tree<Tensor> mu = state.subtree("mu");
        Tree<Tensor> nu = state.subtree("nu");
        Tree<Tensor> newMu = mu.zip(grads, (m, x) -> m.convert(DType.F32).mul(b1).add(x.convert(DType.F32).mul(a)));
        Tree<Tensor> newNu = nu.zip(grads, (v, x) -> v.mul(b2).add(x.convert(DType.F32).square().mul(c)));
        Tree<Tensor> newParams = params.mapWithPath((path, p) -> {
            Tensor mHat = newMu.get(path).div(c1);
            Tensor vHat = newNu.get(path).div(c2);
            Tensor u = mHat.div(vHat.sqrt().add(eps));
            if (weightDecay != 0 && decayMask.test(path)) {
                u = u.add(p.convert(DType.F32).mul(weightDecay));
            }
            return p.convert(DType.F32).sub(u.mul(lr)).convert(p.dtype());
        });
        DType md = bf16Momentum ? DType.BF16 : DType.F32;
        Tree<Tensor> newState = Tree.<Tensor>empty().nest("mu", newMu.map(m -> m.convert(md))).nest("nu", newNu).with("count", count);
        return new Update(newParams, newState, norm);
    }

    /** The L2 norm of all gradients together, in f32. */
    public static Tensor globalNorm(Tree<Tensor> grads) {
        Tensor sum = null;
        for (Tensor g : grads.values()) {
            Tensor s = g.convert(DType.F32).square().sum();
            sum = sum == null ? s : sum.add(s);
        }
        return sum == null ? Constants.scalar(0, DType.F32) : sum.sqrt();
    }

    /** The factor (an f32 scalar) that brings gradients of global norm {@code norm} to at most {@code maxNorm} (1 when maxNorm <= 0). */
    static Tensor clipScale(Tensor norm, double maxNorm) {
        if (maxNorm <= 0) {
            return Constants.scalar(1, DType.F32);
        }
        Tensor max = Constants.scalar(maxNorm, DType.F32);
        return norm.lt(max).select(Constants.scalar(1, DType.F32), max.div(norm));
    }

    /** Scales gradients so their global norm is at most {@code maxNorm} (none when maxNorm <= 0). */
    static Tree<Tensor> clip(Tree<Tensor> grads, Tensor norm, double maxNorm) {
        if (maxNorm <= 0) {
            return grads;
        }
        Tensor scale = clipScale(norm, maxNorm);
        return grads.map(g -> g.mul(scale.convert(g.dtype())));
    }
}
