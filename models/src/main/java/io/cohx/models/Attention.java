package io.cohx.models;

import io.cohx.engine.Constants;
import io.cohx.engine.DType;
import io.cohx.engine.Dot;
import io.cohx.engine.Rng;
import io.cohx.engine.Shape;
import io.cohx.engine.Shapes;
import io.cohx.engine.Tensor;

/**
 * Multi-head causal self-attention, with grouped-query attention (fewer key/value heads than query
 * heads, each serving an equal group of consecutive query heads; one = multi-query attention),
 * and the masks the reference trainer uses: the plain causal
 * mask (no padding mask: padding only enters through the loss masks) and, in training, the
 * forgetful causal mask (FCM), which hides a random share of the visible keys. Scores, softmax and
 * the weighted sum of values are computed in f32 whatever the compute dtype.
 */
public final class Attention {
    private Attention() {}

    /** The score masked positions get: float32's lowest finite value, as in the references. */
    static final double MASKED = -Float.MAX_VALUE;

    /** {@code pred[1, 1, S, S]}: query q may see key k iff {@code k <= q}. */
    public static Tensor causalMask(int seq) {
        Shape s = Shape.of(1, 1, seq, seq);
        return Shapes.iota(DType.S32, s, 2).ge(Shapes.iota(DType.S32, s, 3));
    }

    /**
     * The forgetful causal mask's keep pattern {@code pred[B, 1, S, S]} (true = visible) from
     * {@code key}: per sequence a ratio {@code r ~ U[minRatio, maxRatio)}, each (query, key) pair
     * hidden with probability r, key 0 never hidden (so every query sees at least one key).
     * Combine it with {@link #causalMask} by logical and.
     */
    public static Tensor forgetfulMask(Tensor key, int batch, int seq, double minRatio, double maxRatio) {
        // One draw for both: the extra column's first row is the sequence's ratio (a separate
        // derived key would deepen the hash chain XLA fuses into the attention kernels).
        Tensor draw = Rng.uniform(key, DType.F32, Shape.of(batch, 1, seq, seq + 1), 0, 1);
        Tensor ratio = draw.slice(2, 0, 1).slice(3, seq, seq + 1).mul(maxRatio - minRatio).add(minRatio);
        Tensor u = draw.slice(3, 0, seq);
        Tensor keyZero = Shapes.iota(DType.S32, Shape.of(1, 1, 1, seq), 3).eq(0);
        return u.ge(ratio).or(keyZero);
    }

    /**
     * {@code mask pred[B, 1, S, S]} repeated for each of {@code heads}, as a materialized array.
     * A random mask broadcast straight into the softmax's fused reductions makes XLA's CPU
     * compiler take minutes (it re-derives the threefry bits inside the reduction kernels); a
     * product with ones (bf16, exact for 0/1) is not fused, so the bits are computed once.
     */
    public static Tensor perHead(Tensor mask, int heads) {
        Tensor m = mask.select(Constants.scalar(1, DType.BF16), Constants.scalar(0, DType.BF16));
        Tensor ones = Constants.full(1, DType.BF16, Shape.of(1, heads));
        return Dot.einsum("bxqk,xh->bhqk", m, ones).gt(0.5);
    }

    /**
     * Attention of {@code q [B, S, H, D]} over {@code k, v [B, T, G, D]} (in the compute dtype;
     * G divides H, query head h reads key/value head {@code h / (H/G)}, as Hugging Face's
     * {@code repeat_kv}) under {@code visible} (pred broadcastable to {@code [B, H, S, T]});
     * returns {@code [B, S, H, D]} in q's dtype. {@code dropKey} (null: none) drops attention
     * weights with probability {@code dropRate}. The groups are a dot-product batch dimension, so
     * the key/value heads are never copied H/G times.
     */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, Tensor visible, double dropRate, Tensor dropKey) {
        DType dt = q.dtype();
        int b = q.dim(0);
        int s = q.dim(1);
        int h = q.dim(2);
        int d = q.dim(3);
        int t = k.dim(1);
        int g = k.dim(2);
        if (h % g != 0 || !k.type().equals(v.type()) || k.dim(3) != d) {
            throw new IllegalArgumentException("attention: " + h + " query heads " + q.type() + " need key/value heads that divide"
                    + " them, shaped alike, got k " + k.type() + " and v " + v.type());
        }
        int r = h / g;
        Tensor scaled = q.mul(1 / Math.sqrt(d)).reshape(b, s, g, r, d);
        Tensor scores = Dot.einsum("bqgrd,bkgd->bgrqk", scaled, k, DType.F32).reshape(b, h, s, t);
        scores = visible.select(scores, Constants.scalar(MASKED, DType.F32));
        Tensor weights = scores.softmax(3);
        if (dropKey != null && dropRate > 0) {
            weights = Dropout.apply(weights, dropRate, dropKey);
        }
        Tensor grouped = weights.convert(dt).reshape(b, g, r, s, t);
        return Dot.einsum("bgrqk,bkgd->bqgrd", grouped, v, DType.F32).convert(dt).reshape(b, s, h, d);
    }
}
