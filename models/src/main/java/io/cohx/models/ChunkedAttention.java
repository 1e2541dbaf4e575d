package io.cohx.models;

import io.cohx.engine.Constants;
import io.cohx.engine.Control;
import io.cohx.engine.DType;
import io.cohx.engine.Rng;
import io.cohx.engine.Tensor;

import java.util.List;

/**
 * {@link Attention#attend} a chunk of queries at a time, in a loop: each step scores its
 * {@code chunk} queries against every key, so the score and weight arrays are
 * {@code [B, H, chunk, S]} instead of {@code [B, H, S, S]}; the loop's backward pass recomputes
 * each chunk's scores from its queries. Each query still sees every key it may, so the result is
 * the same as the whole attention (up to the order of f32 sums). With attention dropout each
 * chunk draws from its own key (the chunk's number folded in), so the dropped weights differ
 * from the unchunked pass's, with the same distribution.
 */
public final class ChunkedAttention {
    private ChunkedAttention() {}

    /**
     * The attention output {@code [B, S, H, D]} of {@code q, k, v [B, S, H, D]} under {@code visible}
     * ({@code pred [1 or B, 1 or H, S, S]}), {@code chunk} queries at a time ({@code chunk} divides S).
     */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, Tensor visible, double dropRate, Tensor dropKey, int chunk) {
        int b = q.dim(0);
        int s = q.dim(1);
        int h = q.dim(2);
        int d = q.dim(3);
        if (chunk <= 0 || chunk >= s) {
            return Attention.attend(q, k, v, visible, dropRate, dropKey);
        }
        if (s % chunk != 0) {
            throw new IllegalArgumentException("attention chunk " + chunk + " does not divide the sequence length " + s
                    + "; use a divisor of it (or 0 for whole attention)");
        }
        int n = s / chunk;
        Tensor qs = q.reshape(b, n, chunk, h, d).transpose(1, 0, 2, 3, 4);
        int mb = visible.dim(0);
        int mh = visible.dim(1);
        Tensor ms = visible.broadcastTo(mb, mh, s, s).reshape(mb, mh, n, chunk, s).transpose(2, 0, 1, 3, 4);
        boolean drop = dropKey != null && dropRate > 0;
        var r = Control.scan((carry, x) -> {
            Tensor i = carry.getFirst();
            Tensor key = drop ? Rng.foldIn(dropKey, i) : null;
            Tensor out = Attention.attend(x.get(0), k, v, x.get(1), dropRate, key);
            return new Control.Step(List.of(i.add(Constants.scalar(1, DType.S32))), List.of(out));
        }, List.of(Constants.scalar(0, DType.S32)), List.of(qs, ms), n);
        return r.ys().getFirst().transpose(1, 0, 2, 3, 4).reshape(b, s, h, d);
    }
}
