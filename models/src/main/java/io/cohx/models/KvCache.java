package io.cohx.models;

import io.cohx.engine.ArrayType;
import io.cohx.engine.Constants;
import io.cohx.engine.DType;
import io.cohx.engine.Shape;
import io.cohx.engine.Shapes;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.models.config.ModelConfig;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Attention over a key/value cache kept on the device, for generation. The cache holds, per
 * block, {@code h.<i>.k} and {@code h.<i>.v} of {@code [B, L, KV heads, D]} in the compute dtype;
 * a step writes its {@code S} new tokens' keys and values at columns {@code column ..
 * column+S-1} (one column for every row) and attends over the columns {@code start[b] ..
 * column+i}.
 *
 * <p>Rows are <b>left-padded</b>: row b's first real token sits at column {@code start[b]}
 * and has position 0, so a token's position is {@code column - start[b]}; columns before
 * {@code start[b]} (padding, or whatever an earlier batch left there) are never visible, nor
 * are columns after the current one. That is why a cache can be reused by the next batch
 * without clearing it, and why all rows can share one write column.
 *
 * <p>The write column may also be given per row ({@code column s32[B]}): then each row is at its
 * own position, which is what continuous batching needs (rows that joined at different steps
 * decode together; see {@link io.cohx.models.generate.SlotDecoder}).
 */
public final class KvCache implements SelfAttention {
    private final Tree<Tensor> cache;
    private final Tensor column;
    private final Tensor start;
    private final Tensor visible;
    private final Rotary rotary;
    private final Map<String, Tensor> updated = new LinkedHashMap<>();

    /**
     * @param cache     the cache tree ({@link #types})
     * @param seq       tokens per row in this step (S)
     * @param column    s32 scalar: the cache column of the step's first token in every row; or
     *                  s32[B]: each row's own first column
     * @param start     s32[B]: each row's first real column
     * @param rope      the model's rotary frequencies
     */
    public KvCache(Tree<Tensor> cache, int seq, Tensor column, Tensor start, Rope rope) {
        this.cache = cache;
        this.column = column;
        this.start = start;
        Tensor first = cache.values().getFirst();
        int b = first.dim(0);
        int length = first.dim(1);
        if (start.rank() != 1 || start.dim(0) != b || start.dtype() != DType.S32) {
            throw new IllegalArgumentException("start must be s32[" + b + "] (one first column per cache row), got " + start.type());
        }
        boolean perRow = column.rank() == 1 && column.dim(0) == b;
        if (!(column.rank() == 0 || perRow) || column.dtype() != DType.S32) {
            throw new IllegalArgumentException("column must be an s32 scalar or s32[" + b + "], got " + column.type());
        }
        Tensor cols = Shapes.iota(DType.S32, Shape.of(1, seq), 1).add(perRow ? column.reshape(b, 1) : column); // [1 or B, S]
        Tensor positions = cols.sub(start.reshape(b, 1)).max(0).min(length - 1);      // [B, S]
        this.rotary = Rotary.at(positions, length, rope);
        Tensor key = Shapes.iota(DType.S32, Shape.of(1, 1, 1, length), 3);
        Tensor query = cols.reshape(cols.dim(0), 1, seq, 1);
        this.visible = key.ge(start.reshape(b, 1, 1, 1)).and(key.le(query));           // [B, 1, S, L]
    }

    /**
     * Cache entries for {@code config}'s model: {@code batch} rows of {@code length} columns of its
     * key/value heads (fewer than its query heads with grouped-query attention) in {@code dtype}.
     */
    public static Tree<ArrayType> types(ModelConfig config, int batch, int length, DType dtype) {
        var t = new ArrayType(dtype, Shape.of(batch, length, config.numKvHeads(), config.headDim()));
        Tree<ArrayType> r = Tree.empty();
        for (int i = 0; i < config.numLayers(); i++) {
            r = r.with("h." + i + ".k", t).with("h." + i + ".v", t);
        }
        return r;
    }

    @Override
    public Tensor rotate(Tensor x) {
        return rotary.apply(x);
    }

    @Override
    public Tensor attend(int layer, Tensor q, Tensor k, Tensor v) {
        Tensor kc = cache.get("h." + layer + ".k");
        Tensor vc = cache.get("h." + layer + ".v");
        kc = write(kc, k.convert(kc.dtype()));
        vc = write(vc, v.convert(vc.dtype()));
        updated.put("h." + layer + ".k", kc);
        updated.put("h." + layer + ".v", vc);
        return Attention.attend(q, kc.convert(q.dtype()), vc.convert(q.dtype()), visible, 0, null);
    }

    /** Writes a step's keys or values {@code [B, S, H, D]} into a layer's cache at the write column(s). */
    private Tensor write(Tensor layerCache, Tensor x) {
        Tensor zero = Constants.scalar(0, DType.S32);
        if (column.rank() == 0) {
            return Shapes.dynamicUpdateSlice(layerCache, x, zero, column, zero, zero);
        }
        if (x.dim(1) == 1) {
            // One token per row (a decode step): a select over the columns writes every row at its
            // own column in one elementwise pass, which XLA does in place.
            int b = x.dim(0);
            Tensor at = Shapes.iota(DType.S32, Shape.of(1, layerCache.dim(1), 1, 1), 1).eq(column.reshape(b, 1, 1, 1));
            return at.select(x.broadcastTo(layerCache.shape()), layerCache);
        }
        // Several tokens per row: one in-place update per row (the batch is a handful of slots).
        for (int r = 0; r < x.dim(0); r++) {
            Tensor at = column.slice(0, r, r + 1).reshape();
            layerCache = Shapes.dynamicUpdateSlice(layerCache, x.slice(0, r, r + 1), Constants.scalar(r, DType.S32), at, zero, zero);
        }
        return layerCache;
    }

    /** The cache after the step (every layer must have attended). */
    public Tree<Tensor> updated() {
        if (updated.size() != cache.size()) {
            throw new IllegalStateException("only " + updated.size() / 2 + " of " + cache.size() / 2 + " layers used the cache");
        }
        return Tree.of(updated);
    }
}
