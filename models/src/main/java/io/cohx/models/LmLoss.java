package io.cohx.models;

import io.cohx.engine.Constants;
import io.cohx.engine.Control;
import io.cohx.engine.DType;
import io.cohx.engine.Dot;
import io.cohx.engine.Shape;
import io.cohx.engine.Shapes;
import io.cohx.engine.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The loss of the original trainer (docs/COH.md#loss): teacher forcing with inputs {@code [bos] + tokens[:, :-1]},
 * targets {@code tokens}; per row the masked sum of {@code -log p(target)} divided by
 * {@code max(sum(mask), 1e-10)}, then the batch mean; accuracy likewise with
 * {@code argmax == target}. Logits are taken in f32.
 *
 * <p>Written as {@code sum(w · (logsumexp(logits) - logits[target]))} with per-token weights
 * {@code w = mask / max(sum(mask), 1e-10) / B}, the target picked by comparing with an iota:
 * its gradient is one elementwise pass over the logits ({@code softmax - onehot}, scaled), with
 * no log-probability array and no scatter. {@link #of(LmHead, Tensor, Tensor, int)} goes further
 * and makes the logits a chunk of positions at a time inside a loop that also computes their
 * gradient, so the f32 {@code [B, S, V]} logits and their gradient never exist whole.
 */
public final class LmLoss {
    private LmLoss() {}

    /** Loss and accuracy (f32 scalars). */
    public record Result(Tensor loss, Tensor accuracy) {}

    /** {@code [bos] + tokens[:, :-1]} for {@code s32[B,S]} tokens. */
    public static Tensor shiftRight(Tensor tokens, int bos) {
        int b = tokens.dim(0);
        Tensor first = Constants.full(bos, tokens.dtype(), Shape.of(b, 1));
        return Shapes.concatenate(1, first, tokens.slice(1, 0, tokens.dim(1) - 1));
    }

    /**
     * {@link #shiftRight} of rows that pack several examples numbered by {@code segmentIds}
     * ({@code [B,S]}, contiguous runs): bos also where each later example begins, in place of the
     * previous example's last token, so that with {@link ForwardOptions#segmentIds()} every
     * example sees exactly the inputs it would see alone.
     */
    public static Tensor shiftRight(Tensor tokens, int bos, Tensor segmentIds) {
        Tensor shifted = shiftRight(tokens, bos);
        int s = tokens.dim(1);
        Tensor previous = Shapes.concatenate(1, segmentIds.slice(1, 0, 1), segmentIds.slice(1, 0, s - 1));
        Tensor starts = segmentIds.ne(previous);
        return starts.select(Constants.full(bos, tokens.dtype(), tokens.type().shape()), shifted);
    }

    /** Loss and accuracy of {@code logits [B,S,V]} against {@code targets s32[B,S]} weighted by {@code masks f32[B,S]}. */
    public static Result of(Tensor logits, Tensor targets, Tensor masks) {
        Tensor w = weights(masks);
        Tensor[] t = tokenTerms(logits, targets);
        return new Result(t[0].mul(w).sum(), t[1].mul(w).sum());
    }

    /**
     * {@link #of(Tensor, Tensor, Tensor)} of {@code head}'s logits, made {@code chunk} positions
     * at a time ({@code chunk} must divide the sequence length; 0 or the whole length: at once).
     * Same loss and gradients up to the order of the f32 sums.
     *
     * <p>The chunked loss computes its own gradient in the same loop: per chunk the logits, the
     * loss terms, {@code dlogits = w · (softmax - onehot)}, and from it the chunk's hidden-state
     * gradient and its share of the head's. The returned loss carries those gradients as
     * {@code loss + (Σ h·dh - Σ h·dh) + (Σ W·dW - Σ W·dW)} with the second of each pair behind a
     * stop-gradient: its value is the loss exactly, its gradient {@code dh} and {@code dW}. So
     * the backward pass neither keeps nor recomputes any chunk's logits, and does no more
     * products than the unchunked loss.
     */
    public static Result of(LmHead head, Tensor targets, Tensor masks, int chunk) {
        int b = targets.dim(0);
        int s = targets.dim(1);
        if (chunk <= 0 || chunk >= s) {
            return of(head.logits(), targets, masks);
        }
        if (s % chunk != 0) {
            throw new IllegalArgumentException("loss chunk " + chunk + " does not divide the sequence length " + s
                    + "; use a divisor of it (or 0 for the whole sequence)");
        }
        int n = s / chunk;
        Tensor hidden = head.hidden();
        int h = hidden.dim(2);
        DType dt = hidden.dtype();
        Tensor kernel = Control.stopGradient(head.kernel());
        Tensor bias = head.bias() == null ? null : Control.stopGradient(head.bias());
        // [B, S, ...] -> [n, B, chunk, ...]: the loop runs over chunks of positions, every row in each
        // (so a batch split over devices stays split).
        Tensor hs = Control.stopGradient(hidden).reshape(b, n, chunk, h).transpose(1, 0, 2, 3);
        Tensor ts = targets.reshape(b, n, chunk).transpose(1, 0, 2);
        Tensor ws = weights(masks).reshape(b, n, chunk).transpose(1, 0, 2);
        Tensor zero = Constants.scalar(0, DType.F32);
        Tensor kc = kernel.convert(dt);
        List<Tensor> init = new ArrayList<>(List.of(zero, zero, Constants.full(0, DType.F32, kernel.shape())));
        if (bias != null) {
            init.add(Constants.full(0, DType.F32, bias.shape()));
        }
        var r = Control.scan((carry, x) -> {
            Tensor hc = x.get(0);
            Tensor tc = x.get(1);
            Tensor w = x.get(2);
            Tensor lf = new LmHead(hc, kernel, bias).logits();
            int v = lf.rank() - 1;
            Tensor isTarget = Shapes.iota(tc.dtype(), lf.shape(), v).eq(tc.expandDims(v));
            Tensor m = lf.reduceMax(v).expandDims(v);
            Tensor e = lf.sub(m).exp();
            Tensor sum = e.sum(v).expandDims(v);
            Tensor lse = sum.log().add(m).squeeze(v);
            Tensor picked = isTarget.select(lf, Constants.scalar(0, DType.F32)).sum(v);
            Tensor hit = lf.argmax(v).convert(tc.dtype()).eq(tc).convert(DType.F32);
            Tensor dl = e.div(sum).sub(isTarget.convert(DType.F32)).mul(w.expandDims(v)).convert(dt);
            // dh = dl · Wᵀ ([B, c, H]); dW = Σ_{b,c} hᵀ dl ([H, V]); db = Σ_{b,c} dl.
            Tensor dh = Dot.dotGeneral(dl, kc, Dot.Dims.of(new int[] {2}, new int[] {1}), DType.F32);
            Tensor dw = Dot.dotGeneral(hc, dl, Dot.Dims.of(new int[] {0, 1}, new int[] {0, 1}), DType.F32);
            List<Tensor> next = new ArrayList<>(List.of(carry.get(0).add(lse.sub(picked).mul(w).sum()),
                    carry.get(1).add(hit.mul(w).sum()), carry.get(2).add(dw)));
            if (bias != null) {
                next.add(carry.get(3).add(dl.convert(DType.F32).sum(0, 1)));
            }
            return new Control.Step(next, List.of(dh));
        }, init, List.of(hs, ts, ws), n);
        Tensor dh = r.ys().getFirst().transpose(1, 0, 2, 3).reshape(b, s, h);
        Tensor loss = r.carry().get(0)
                .add(carries(hidden, dh))
                .add(carries(head.kernel(), r.carry().get(2)));
        if (bias != null) {
            loss = loss.add(carries(head.bias(), r.carry().get(3)));
        }
        return new Result(loss, r.carry().get(1));
    }

    /** {@code Σ x·g - Σ x·g} with the second behind a stop-gradient: exactly 0, with gradient {@code g} for {@code x}. */
    private static Tensor carries(Tensor x, Tensor g) {
        Tensor t = Dot.vdot(x.convert(DType.F32), Control.stopGradient(g), DType.F32);
        return t.sub(Control.stopGradient(t));
    }

    /** Per-token weights {@code mask / max(sum(mask), 1e-10) / B} (f32 [B,S]): the loss is their dot with the token losses. */
    static Tensor weights(Tensor masks) {
        Tensor m = masks.convert(DType.F32);
        Tensor denom = m.sum(1).max(1e-10).mul(masks.dim(0)).expandDims(1);
        return m.div(denom);
    }

    /** {@code -log p(target)} and {@code argmax == target} (as 0/1) per token, f32 {@code [..]} for logits {@code [.., V]}. */
    static Tensor[] tokenTerms(Tensor logits, Tensor targets) {
        Tensor lf = logits.convert(DType.F32);
        int v = lf.rank() - 1;
        Tensor isTarget = Shapes.iota(targets.dtype(), lf.shape(), v).eq(targets.expandDims(v));
        Tensor picked = isTarget.select(lf, Constants.scalar(0, DType.F32)).sum(v);
        Tensor nll = lf.logsumexp(v).sub(picked);
        Tensor hit = lf.argmax(v).convert(targets.dtype()).eq(targets).convert(DType.F32);
        return new Tensor[] {nll, hit};
    }
}
