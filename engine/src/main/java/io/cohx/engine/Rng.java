package io.cohx.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * Counter-based random numbers from explicit keys (a key is a {@code u32[2]} array). Bits are
 * Threefry-2x32 (20 rounds) of the element's global row-major index, built from integer ops in
 * the graph, so the values do not depend on how the array is sharded or on the device. Derived
 * keys ({@link #split}, {@link #foldIn}) and bit streams hash different counter domains so they
 * never reuse a counter block.
 */
public final class Rng {
    private Rng() {}

    private static final int[] ROTATIONS = {13, 15, 26, 6, 17, 29, 16, 24};
    private static final long DOMAIN_BITS = 0;
    private static final long DOMAIN_SPLIT = 1;
    private static final long DOMAIN_FOLD = 2;

    /** The key for {@code seed} as host data (to pass into a program). */
    public static NdArray keyData(long seed) {
        return NdArray.of(DType.U32, new double[] {seed >>> 32, seed & 0xFFFFFFFFL}, 2);
    }

    /** The key for {@code seed} as a constant of the program. */
    public static Tensor key(long seed) {
        return Constants.of(keyData(seed));
    }

    private static void checkKey(String op, Tensor key) {
        if (key.dtype() != DType.U32 || !key.shape().equals(Shape.of(2))) {
            throw EngineException.op(op, "a key is u32[2], got " + key.type());
        }
    }

    private static Tensor word(Tensor key, int i) {
        return Shapes.reshape(Shapes.slice(key, 0, i, i + 1));
    }

    private static Tensor u32(long v) {
        return Constants.scalar(v, DType.U32);
    }

    private static Tensor rotl(Tensor x, int r) {
        return x.shiftLeft(u32(r)).or(x.shiftRightLogical(u32(32 - r)));
    }

    /** Threefry-2x32 of the counter pairs (x0, x1) under {@code key}; both results have x1's shape. */
    static Tensor[] threefry(Tensor key, Tensor x0, Tensor x1) {
        Tensor[] ks = {word(key, 0), word(key, 1), null};
        ks[2] = ks[0].xor(ks[1]).xor(u32(0x1BD11BDAL));
        Tensor a = x0.add(ks[0]);
        Tensor b = x1.add(ks[1]);
        for (int group = 0; group < 5; group++) {
            for (int j = 0; j < 4; j++) {
                a = a.add(b);
                b = rotl(b, ROTATIONS[(group % 2) * 4 + j]).xor(a);
            }
            a = a.add(ks[(group + 1) % 3]);
            b = b.add(ks[(group + 2) % 3]).add(u32(group + 1));
        }
        return new Tensor[] {a, b};
    }

    private static Tensor counter(Shape shape) {
        Tensor flat = Shapes.iota(DType.U32, Shape.of((int) shape.size()), 0);
        return Shapes.reshape(flat, shape.dims());
    }

    /** {@code n} new keys as a {@code u32[n, 2]} array. */
    public static Tensor split(Tensor key, int n) {
        checkKey("split", key);
        Tensor[] y = threefry(key, Constants.full(DOMAIN_SPLIT, DType.U32, Shape.of(n)), Shapes.arange(n, DType.U32));
        return Shapes.stack(1, y[0], y[1]);
    }

    /** {@code n} new keys, each {@code u32[2]}. */
    public static List<Tensor> splitKeys(Tensor key, int n) {
        Tensor all = split(key, n);
        List<Tensor> r = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            r.add(Shapes.reshape(Shapes.slice(all, 0, i, i + 1), 2));
        }
        return r;
    }

    /** A key derived from {@code key} and an integer (a step number, a layer index). */
    public static Tensor foldIn(Tensor key, long data) {
        return foldIn(key, u32(data & 0xFFFFFFFFL));
    }

    /** As {@link #foldIn(Tensor, long)} with a traced 0-d integer. */
    public static Tensor foldIn(Tensor key, Tensor data) {
        checkKey("fold_in", key);
        if (data.rank() != 0 || !data.dtype().isInteger()) {
            throw EngineException.op("fold_in", "data must be a 0-d integer, got " + data.type());
        }
        Tensor[] y = threefry(key, u32(DOMAIN_FOLD), Elementwise.convert(data, DType.U32));
        return Shapes.stack(0, y[0], y[1]);
    }

    /** Two words of random bits per element of {@code shape}. */
    static Tensor[] bits2(Tensor key, Shape shape) {
        checkKey("random_bits", key);
        return threefry(key, u32(DOMAIN_BITS), counter(shape));
    }

    /** Uniformly random u32 bits. */
    public static Tensor bits(Tensor key, Shape shape) {
        return bits2(key, shape)[0];
    }

    /** Uniform in {@code [lo, hi)}. */
    public static Tensor uniform(Tensor key, DType dtype, Shape shape, double lo, double hi) {
        if (!dtype.isFloating()) {
            throw EngineException.op("uniform", "needs a floating dtype, got " + dtype);
        }
        return scale(unit(bits2(key, shape), dtype), lo, hi);
    }

    private static Tensor scale(Tensor u, double lo, double hi) {
        return u.mul(hi - lo).add(lo);
    }

    /** Uniform in [0, 1) with all the precision of the dtype (53 bits for f64, 24 for the rest). */
    private static Tensor unit(Tensor[] w, DType dtype) {
        if (dtype == DType.F64) {
            Tensor a = w[0].shiftRightLogical(u32(5)).convert(DType.F64);
            Tensor b = w[1].shiftRightLogical(u32(6)).convert(DType.F64);
            return a.mul(67108864.0).add(b).mul(Math.scalb(1.0, -53));
        }
        Tensor f = w[0].shiftRightLogical(u32(8)).convert(DType.F32).mul(Math.scalb(1.0, -24));
        if (dtype == DType.F32) {
            return f;
        }
        // Rounding to 16 bits can reach 1.0; keep the interval half-open.
        double below1 = dtype == DType.BF16 ? 1 - Math.scalb(1.0, -8) : 1 - Math.scalb(1.0, -11);
        return f.convert(dtype).min(below1);
    }

    /** Standard normal, by the inverse error function of a uniform in (-1, 1). */
    public static Tensor normal(Tensor key, DType dtype, Shape shape) {
        DType work = dtype == DType.F64 ? DType.F64 : DType.F32;
        Tensor u = scale(unit(bits2(key, shape), work), -1, 1);
        double lowest = work == DType.F64 ? Math.nextUp(-1.0) : Math.nextUp(-1.0f);
        u = u.max(lowest);
        return u.erfInv().mul(Math.sqrt(2)).convert(dtype);
    }

    /** Normal restricted to {@code (lo, hi)} (in standard deviations), by inverting the CDF. */
    public static Tensor truncatedNormal(Tensor key, DType dtype, Shape shape, double lo, double hi) {
        if (!(lo < hi)) {
            throw EngineException.op("truncated_normal", "needs lo < hi, got " + lo + ", " + hi);
        }
        DType work = dtype == DType.F64 ? DType.F64 : DType.F32;
        Tensor a = Constants.scalar(lo / Math.sqrt(2), work).erf();
        Tensor b = Constants.scalar(hi / Math.sqrt(2), work).erf();
        Tensor u = unit(bits2(key, shape), work).mul(b.sub(a)).add(a);
        Tensor z = u.erfInv().mul(Math.sqrt(2));
        double l = work == DType.F64 ? Math.nextUp(lo) : Math.nextUp((float) lo);
        double h = work == DType.F64 ? Math.nextDown(hi) : Math.nextDown((float) hi);
        return z.clamp(l, h).convert(dtype);
    }

    /** True with probability {@code p}. */
    public static Tensor bernoulli(Tensor key, double p, Shape shape) {
        return unit(bits2(key, shape), DType.F32).lt(p);
    }
}
