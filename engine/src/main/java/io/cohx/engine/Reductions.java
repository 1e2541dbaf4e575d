package io.cohx.engine;

import java.util.Arrays;

/**
 * Reductions over axes (sum, max, min, and mean and argmax built from them) and the
 * normalizations built on reductions: softmax, log_softmax and logsumexp.
 */
public final class Reductions {
    private Reductions() {}

    enum Kind {
        SUM("stablehlo.add"), MAX("stablehlo.maximum"), MIN("stablehlo.minimum");

        final String combiner;

        Kind(String combiner) {
            this.combiner = combiner;
        }

        double init(DType t) {
            return switch (this) {
                case SUM -> 0;
                case MAX -> t.isFloating() ? Double.NEGATIVE_INFINITY : lowest(t);
                case MIN -> t.isFloating() ? Double.POSITIVE_INFINITY : highest(t);
            };
        }

        private static double lowest(DType t) {
            return switch (t) {
                case S32 -> Integer.MIN_VALUE;
                case S64 -> Long.MIN_VALUE;
                default -> 0;
            };
        }

        private static double highest(DType t) {
            return switch (t) {
                case S32 -> Integer.MAX_VALUE;
                case S64 -> Long.MAX_VALUE;
                case U32 -> 4294967295.0;
                case U8 -> 255;
                default -> 1;
            };
        }
    }

    /** Sum over {@code axes}; no axes means all of them. */
    public static Tensor sum(Tensor x, int... axes) {
        return reduce(Kind.SUM, x, axes);
    }

    public static Tensor max(Tensor x, int... axes) {
        return reduce(Kind.MAX, x, axes);
    }

    public static Tensor min(Tensor x, int... axes) {
        return reduce(Kind.MIN, x, axes);
    }

    public static Tensor mean(Tensor x, int... axes) {
        int[] a = normalize(x, axes);
        long n = 1;
        for (int i : a) {
            n *= x.shape().dim(i);
        }
        return sum(x, a).div((double) n);
    }

    static int[] normalize(Tensor x, int[] axes) {
        if (axes.length == 0) {
            int[] all = new int[x.rank()];
            for (int i = 0; i < all.length; i++) {
                all[i] = i;
            }
            return all;
        }
        int[] a = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            a[i] = x.shape().axis(axes[i]);
        }
        Arrays.sort(a);
        for (int i = 1; i < a.length; i++) {
            if (a[i] == a[i - 1]) {
                throw EngineException.op("reduce", "axis " + a[i] + " repeats in " + Arrays.toString(axes) + " for " + x.type());
            }
        }
        return a;
    }

    static Tensor reduce(Kind kind, Tensor x, int... axes) {
        int[] a = normalize(x, axes);
        if (x.dtype().isBool()) {
            throw EngineException.op("reduce", "cannot " + kind.name().toLowerCase() + " a pred array " + x.type() + "; convert it first");
        }
        if (a.length == 0) {
            return x;
        }
        Tensor init = Constants.scalar(kind.init(x.dtype()), x.dtype());
        return Graph.current().add1(new ReduceOp(kind, a), new ArrayType(x.dtype(), x.shape().drop(a)), x, init);
    }

    /** Broadcasts a reduced array back over the reduced axes of {@code full}. */
    static Tensor unreduce(Tensor r, Shape full, int[] axes) {
        int[] keep = new int[full.rank() - axes.length];
        for (int i = 0, k = 0; i < full.rank(); i++) {
            if (Arrays.binarySearch(axes, i) < 0) {
                keep[k++] = i;
            }
        }
        return Shapes.broadcastInDim(r, full, keep);
    }

    record ReduceOp(Kind kind, int[] axes) implements Op {
        @Override
        public String name() {
            return "reduce_" + kind.name().toLowerCase();
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.line(e.results(n) + " = \"stablehlo.reduce\"(" + e.operands(n.inputs) + ") "
                    + e.scalarRegion(kind.combiner, n.in(0).dtype(), n.id)
                    + " {dimensions = " + Shapes.i64s(axes) + "} : (" + Emitter.types(n.inputs) + ") -> " + n.types[0].mlir());
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Tensor x = n.in(0);
            Tensor g = unreduce(cts[0], x.shape(), axes);
            if (kind == Kind.SUM) {
                return new Tensor[] {g, null};
            }
            // Ties share the cotangent evenly.
            Tensor hit = Elementwise.convert(x.eq(unreduce(n.outs[0], x.shape(), axes)), x.dtype());
            Tensor count = unreduce(sum(hit, axes), x.shape(), axes);
            return new Tensor[] {g.mul(hit).div(count), null};
        }
    }

    /** Index of the largest element along {@code axis} (the first one on ties), as s32. */
    public static Tensor argmax(Tensor x, int axis) {
        return argBest(x, axis, true);
    }

    public static Tensor argmin(Tensor x, int axis) {
        return argBest(x, axis, false);
    }

    private static Tensor argBest(Tensor x, int axis, boolean largest) {
        int a = x.shape().axis(axis);
        Tensor v = Control.stopGradient(x);
        Tensor best = unreduce(largest ? max(v, a) : min(v, a), x.shape(), new int[] {a});
        Tensor idx = Shapes.iota(DType.S32, x.shape(), a);
        Tensor big = Constants.full(x.shape().dim(a), DType.S32, x.shape());
        return min(Elementwise.select(v.eq(best), idx, big), a);
    }

    /** {@code log(sum(exp(x)))} along {@code axis}, computed stably. */
    public static Tensor logsumexp(Tensor x, int axis) {
        int a = x.shape().axis(axis);
        Tensor m = Control.stopGradient(max(x, a));
        Tensor mb = unreduce(m, x.shape(), new int[] {a});
        return sum(x.sub(mb).exp(), a).log().add(m);
    }

    public static Tensor logSoftmax(Tensor x, int axis) {
        int a = x.shape().axis(axis);
        return x.sub(unreduce(logsumexp(x, a), x.shape(), new int[] {a}));
    }

    public static Tensor softmax(Tensor x, int axis) {
        int a = x.shape().axis(axis);
        Tensor m = Control.stopGradient(unreduce(max(x, a), x.shape(), new int[] {a}));
        Tensor e = x.sub(m).exp();
        return e.div(unreduce(sum(e, a), x.shape(), new int[] {a}));
    }
}
