package io.cohx.models;

import io.cohx.engine.Constants;
import io.cohx.engine.DType;
import io.cohx.engine.Indexing;
import io.cohx.engine.Shapes;
import io.cohx.engine.Tensor;

/**
 * The loss of the original trainer (docs/COH.md#loss): teacher forcing with inputs
 * {@code [bos] + tokens[:, :-1]}, targets {@code tokens}; per row the masked sum of
 * {@code -log p(target)} divided by {@code max(sum(mask), 1e-10)}, then the batch mean; accuracy
 * likewise with {@code argmax == target}. Logits are cast to f32 before the log-softmax.
 */
public final class LmLoss {
    private LmLoss() {}

    /** Loss and accuracy (f32 scalars). */
    public record Result(Tensor loss, Tensor accuracy) {}

    /** {@code [bos] + tokens[:, :-1]} for {@code s32[B,S]} tokens. */
    public static Tensor shiftRight(Tensor tokens, int bos) {
        int b = tokens.dim(0);
        Tensor first = Constants.full(bos, tokens.dtype(), io.cohx.engine.Shape.of(b, 1));
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
        Tensor lp = logits.convert(DType.F32).logSoftmax(2);
        Tensor tokenLp = Indexing.takeAlongAxis(lp, targets.expandDims(2), 2).squeeze(2);
        Tensor m = masks.convert(DType.F32);
        Tensor denom = m.sum(1).max(1e-10);
        Tensor loss = tokenLp.neg().mul(m).sum(1).div(denom).mean();
        Tensor hit = logits.argmax(2).convert(targets.dtype()).eq(targets).convert(DType.F32);
        Tensor acc = hit.mul(m).sum(1).div(denom).mean();
        return new Result(loss, acc);
    }
}
