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

    /**
     * One variadic reduce over (value, index) pairs, as JAX lowers argmax: the larger (smaller)
     * value wins, the smaller index on ties. One pass over {@code x}, no index array of its size.
     */
    private static Tensor argBest(Tensor x, int axis, boolean largest) {
        int a = x.shape().axis(axis);
        if (!x.dtype().isFloating() && !x.dtype().isInteger()) {
            throw EngineException.op(largest ? "argmax" : "argmin", "needs numbers, got " + x.type());
        }
        Tensor v = Control.stopGradient(x);
        Tensor idx = Shapes.iota(DType.S32, x.shape(), a);
        Kind k = largest ? Kind.MAX : Kind.MIN;
        Tensor initV = Constants.scalar(k.init(x.dtype()), x.dtype());
        Tensor initI = Constants.scalar(Integer.MAX_VALUE, DType.S32);
        Shape out = x.shape().drop(a);
        Node n = Graph.current().add(new ArgBestOp(largest, a), new ArrayType[] {new ArrayType(x.dtype(), out), new ArrayType(DType.S32, out)},
                v, idx, initV, initI);
        return n.outs[1];
    }

    record ArgBestOp(boolean largest, int axis) implements Op {
        @Override
        public String name() {
            return largest ? "argmax" : "argmin";
        }

        @Override
        public boolean differentiable() {
            return false;
        }

        @Override
        public void emit(Emitter e, Node n) {
            String t = "tensor<" + n.in(0).dtype().mlir() + ">";
            String it = "tensor<i32>";
            String p = "%r" + n.id;
            String type = n.in(0).dtype().compareType();
            String ind = e.indentation();
            String region = "({\n"
                    + ind + "  ^bb0(" + p + "a: " + t + ", " + p + "ai: " + it + ", " + p + "b: " + t + ", " + p + "bi: " + it + "):\n"
                    + ind + "    " + p + "w = \"stablehlo.compare\"(" + p + "a, " + p + "b) {comparison_direction = #stablehlo<comparison_direction "
                    + (largest ? "GT" : "LT") + ">, compare_type = #stablehlo<comparison_type " + type + ">} : (" + t + ", " + t + ") -> tensor<i1>\n"
                    + ind + "    " + p + "e = \"stablehlo.compare\"(" + p + "a, " + p + "b) {comparison_direction = #stablehlo<comparison_direction EQ>, "
                    + "compare_type = #stablehlo<comparison_type " + type + ">} : (" + t + ", " + t + ") -> tensor<i1>\n"
                    + ind + "    " + p + "l = \"stablehlo.compare\"(" + p + "ai, " + p + "bi) {comparison_direction = #stablehlo<comparison_direction LT>, "
                    + "compare_type = #stablehlo<comparison_type SIGNED>} : (" + it + ", " + it + ") -> tensor<i1>\n"
                    + ind + "    " + p + "t = \"stablehlo.and\"(" + p + "e, " + p + "l) : (tensor<i1>, tensor<i1>) -> tensor<i1>\n"
                    + ind + "    " + p + "k = \"stablehlo.or\"(" + p + "w, " + p + "t) : (tensor<i1>, tensor<i1>) -> tensor<i1>\n"
                    + ind + "    " + p + "v = \"stablehlo.select\"(" + p + "k, " + p + "a, " + p + "b) : (tensor<i1>, " + t + ", " + t + ") -> " + t + "\n"
                    + ind + "    " + p + "i = \"stablehlo.select\"(" + p + "k, " + p + "ai, " + p + "bi) : (tensor<i1>, " + it + ", " + it + ") -> " + it + "\n"
                    + ind + "    \"stablehlo.return\"(" + p + "v, " + p + "i) : (" + t + ", " + it + ") -> ()\n"
                    + ind + "  })";
            e.line(e.results(n) + " = \"stablehlo.reduce\"(" + e.operands(n.inputs) + ") " + region + " {dimensions = "
                    + Shapes.i64s(new int[] {axis}) + "} : (" + Emitter.types(n.inputs) + ") -> " + Emitter.resultTypes(n));
        }
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
