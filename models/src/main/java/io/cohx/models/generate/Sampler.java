package io.cohx.models.generate;

import io.cohx.engine.Constants;
import io.cohx.engine.Control;
import io.cohx.engine.DType;
import io.cohx.engine.Elementwise;
import io.cohx.engine.Indexing;
import io.cohx.engine.Rng;
import io.cohx.engine.Shape;
import io.cohx.engine.Shapes;
import io.cohx.engine.Tensor;

import java.util.List;
import java.util.function.Function;

/**
 * Picks the next token of every row on the device: greedy where the row's temperature is 0,
 * otherwise temperature, then top-k, then top-p (nucleus) filtering and a draw from what is left.
 * Each row has its own settings and its own key, and the draw of a row's n-th token depends only
 * on that key and n, so a seeded request gives the same text whatever else shares its batch.
 *
 * <p>The engine has no sort, and none is needed: the k-th largest logit, and the smallest
 * probability still inside the nucleus, are found exactly by building the threshold bit by bit
 * over an order-preserving integer image of the floats (32 steps of compare-and-sum over the
 * vocabulary). Ties at a threshold are all kept. The draw is Gumbel-max over the kept logits.
 */
public final class Sampler {
    private Sampler() {}

    /**
     * The picked tokens {@code s32[B]} and their log-probabilities under the unfiltered model
     * {@code f32[B]}, and each row's K most likely tokens {@code s32[B, K]} with their
     * log-probabilities {@code f32[B, K]}, most likely first (OpenAI's {@code top_logprobs}).
     */
    public record Sample(Tensor tokens, Tensor logprobs, Tensor topTokens, Tensor topLogprobs) {}

    private static final double DROPPED = -Float.MAX_VALUE;

    /**
     * @param logits      {@code f32[B, V]}
     * @param temperature {@code f32[B]}; 0 = greedy
     * @param topK        {@code s32[B]}; 0 or less = no top-k
     * @param topP        {@code f32[B]}; 1 or more = no top-p
     * @param keys        {@code u32[B, 2]}: each row's random key
     * @param index       which generated token this is (folded into each key): an s32 scalar for
     *                    every row, or s32[B] when rows are at different tokens
     * @param alternatives K, how many most likely tokens to report per row (at least 1)
     */
    public static Sample sample(Tensor logits, Tensor temperature, Tensor topK, Tensor topP, Tensor keys, Tensor index,
                                int alternatives) {
        if (alternatives < 1) {
            throw new IllegalArgumentException("alternatives must be >= 1, got " + alternatives);
        }
        int b = logits.dim(0);
        int v = logits.dim(1);
        Tensor greedy = logits.argmax(1);
        Tensor x = logits.div(temperature.max(1e-6).reshape(b, 1));

        Tensor k = topK.le(Constants.scalar(0, DType.S32)).select(Constants.full(v, DType.S32, Shape.of(b)), topK.min(v));
        Tensor xs = sortable(x);
        Tensor kth = largestThreshold(b, t -> xs.ge(t.reshape(b, 1)).convert(DType.S32).sum(1).ge(k));
        x = xs.ge(kth.reshape(b, 1)).select(x, Constants.scalar(DROPPED, DType.F32));

        Tensor p = x.softmax(1);
        Tensor ps = sortable(p);
        Tensor nucleus = largestThreshold(b, t -> {
            Tensor in = ps.ge(t.reshape(b, 1));
            return in.select(p, Constants.scalar(0, DType.F32)).sum(1).ge(topP);
        });
        Tensor keep = ps.ge(nucleus.reshape(b, 1)).or(topP.ge(1.0).reshape(b, 1));
        x = keep.select(x, Constants.scalar(DROPPED, DType.F32));

        Tensor[] noise = new Tensor[b];
        for (int r = 0; r < b; r++) {
            Tensor key = Rng.foldIn(keys.slice(0, r, r + 1).reshape(2), index.rank() == 0 ? index : index.slice(0, r, r + 1).reshape());
            Tensor u = Rng.uniform(key, DType.F32, Shape.of(1, v), Float.MIN_NORMAL, 1);
            noise[r] = u.log().neg().log().neg();
        }
        Tensor drawn = x.add(Shapes.concatenate(0, noise)).argmax(1);
        Tensor tokens = temperature.le(Constants.scalar(0, DType.F32)).select(greedy, drawn);
        Tensor all = logits.logSoftmax(1);
        Tensor lp = Indexing.takeAlongAxis(all, tokens.reshape(b, 1), 1).reshape(b);
        Tensor top = mostLikely(logits, greedy, alternatives);
        return new Sample(tokens, lp, top, Indexing.takeAlongAxis(all, top, 1));
    }

    /**
     * The k largest logits' ids {@code s32[B, k]}, largest first, starting from the row's
     * {@code argmax}; each further one is the argmax once the ones before are masked out (k is
     * small, so k passes over the vocabulary cost less than a sort).
     */
    static Tensor mostLikely(Tensor logits, Tensor argmax, int k) {
        int b = logits.dim(0);
        Tensor ids = Shapes.iota(DType.S32, Shape.of(1, logits.dim(1)), 1);
        Tensor[] picked = new Tensor[k];
        Tensor x = logits;
        Tensor next = argmax;
        for (int j = 0; j < k; j++) {
            picked[j] = next.reshape(b, 1);
            if (j + 1 < k) {
                x = ids.eq(picked[j]).select(Constants.scalar(Double.NEGATIVE_INFINITY, DType.F32), x);
                next = x.argmax(1);
            }
        }
        return Shapes.concatenate(1, picked);
    }

    /** An order-preserving map of f32 to u32: a > b as floats iff image(a) > image(b) as unsigned ints. */
    static Tensor sortable(Tensor x) {
        Tensor u = Elementwise.bitcast(x, DType.U32);
        Tensor negative = u.shiftRightLogical(Constants.scalar(31, DType.U32)).eq(1);
        return negative.select(u.xor(Constants.scalar(0xFFFFFFFFL, DType.U32)), u.or(Constants.scalar(0x80000000L, DType.U32)));
    }

    /**
     * Per row, the largest u32 threshold t with {@code holds(t)} true, where {@code holds} is
     * monotone (true at 0, and once false stays false as t grows): set bits from the top down.
     */
    static Tensor largestThreshold(int rows, Function<Tensor, Tensor> holds) {
        Tensor zero = Constants.full(0, DType.U32, Shape.of(rows));
        return Control.forLoop(32, List.of(zero), (i, s) -> {
            Tensor shift = Constants.scalar(31, DType.S32).sub(i).convert(DType.U32);
            Tensor candidate = s.getFirst().or(Constants.scalar(1, DType.U32).shiftLeft(shift));
            return List.of(holds.apply(candidate).select(candidate, s.getFirst()));
        }).getFirst();
    }
}
