package io.cohx.engine.optim;

import io.cohx.engine.ArrayType;
import io.cohx.engine.Constants;
import io.cohx.engine.DType;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;

import java.util.function.Predicate;

/**
 * The original trainer's "palm" optimizer: global-norm clipping, then Adafactor without factoring
 * (second moment with decay {@code 1 - t^-b2}, update {@code g / sqrt(v)}), times the learning
 * rate, times the parameter's RMS (at least 1e-3), momentum {@code b1} as an EMA without bias
 * correction, and a scheduled weight decay of {@code (weight_decay / 1e-4) * lr^2} on the masked
 * parameters. Its learning rate comes from {@link LrSchedule#palm}. State: {@code v.<path>},
 * {@code m.<path>} (f32 or bf16) and {@code count}.
 */
public record Palm(double b1, double b2, double weightDecay, double clipNorm, boolean bf16Momentum,
                   Predicate<String> decayMask) implements Optimizer {

    @Override
    public Tree<ArrayType> stateTypes(Tree<ArrayType> types) {
        DType md = bf16Momentum ? DType.BF16 : DType.F32;
        return Tree.<ArrayType>empty().nest("v", types.map(t -> new ArrayType(DType.F32, t.shape())))
                .nest("m", types.map(t -> new ArrayType(md, t.shape()))).with("count", ArrayType.of(DType.S32));
    }

    @Override
    public Update apply(Tree<Tensor> params, Tree<Tensor> grads, Tree<Tensor> state, Tensor lr) {
        Tensor norm = AdamW.globalNorm(grads);
        Tree<Tensor> g = AdamW.clip(grads, norm, clipNorm);
        Tensor count = state.get("count");
        Tensor t = count.add(Constants.scalar(1, DType.S32)).convert(DType.F32);
        Tensor decay = Constants.scalar(1, DType.F32).sub(t.pow(Constants.scalar(-b2, DType.F32)));
        Tensor wd = lr.square().mul(-weightDecay / 1e-4);
        DType md = bf16Momentum ? DType.BF16 : DType.F32;
        Tree<Tensor> v = state.subtree("v");
        Tree<Tensor> m = state.subtree("m");
        Tree<Tensor> newV = v.zip(g, (vv, x) -> vv.mul(decay).add(x.convert(DType.F32).square().add(1e-30).mul(Constants.scalar(1, DType.F32).sub(decay))));
        Tree<Tensor> newM = params.mapWithPath((path, p) -> {
            Tensor p32 = p.convert(DType.F32);
            Tensor u = g.get(path).convert(DType.F32).mul(newV.get(path).rsqrt()).mul(lr);
            Tensor rms = p32.square().mean().sqrt().max(1e-3);
            u = u.mul(rms);
            return m.get(path).convert(DType.F32).mul(b1).add(u.mul(1 - b1));
        });
        Tree<Tensor> newParams = params.mapWithPath((path, p) -> {
            Tensor p32 = p.convert(DType.F32);
            Tensor step = newM.get(path).neg();
            if (weightDecay != 0 && decayMask.test(path)) {
                step = step.add(p32.mul(wd));
            }
            return p32.add(step).convert(p.dtype());
        });
        Tree<Tensor> newState = Tree.<Tensor>empty().nest("v", newV).nest("m", newM.map(x -> x.convert(md)))
                .with("count", count.add(Constants.scalar(1, DType.S32)));
        return new Update(newParams, newState, norm);
    }
}
