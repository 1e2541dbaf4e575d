package io.cohx.engine;

/**
 * Elementwise ops: unary math, binary arithmetic and bitwise ops, compare, select, clamp and
 * dtype conversion. Binary helpers broadcast numpy-style by inserting explicit
 * {@code broadcast_in_dim}s; the primitives themselves require equal shapes and dtypes.
 */
public final class Elementwise {
    private Elementwise() {}

    /** Derivative rule of a unary op: cotangent of x from x, the result y and y's cotangent g. */
    interface UnaryVjp {
        Tensor apply(Tensor x, Tensor y, Tensor g);
    }

    /** Unary ops with their StableHLO name, the dtypes they accept and their VJP (null: zero gradient). */
    public enum Unary {
        NEG("stablehlo.negate", Accepts.NUMERIC, (x, y, g) -> g.neg()),
        ABS("stablehlo.abs", Accepts.NUMERIC, (x, y, g) -> g.mul(x.sign())),
        EXP("stablehlo.exponential", Accepts.FLOAT, (x, y, g) -> g.mul(y)),
        LOG("stablehlo.log", Accepts.FLOAT, (x, y, g) -> g.div(x)),
        LOG1P("stablehlo.log_plus_one", Accepts.FLOAT, (x, y, g) -> g.div(x.add(1))),
        SQRT("stablehlo.sqrt", Accepts.FLOAT, (x, y, g) -> g.mul(0.5).div(y)),
        RSQRT("stablehlo.rsqrt", Accepts.FLOAT, (x, y, g) -> g.mul(-0.5).mul(y).div(x)),
        TANH("stablehlo.tanh", Accepts.FLOAT, (x, y, g) -> g.mul(y.mul(y).neg().add(1))),
        LOGISTIC("stablehlo.logistic", Accepts.FLOAT, (x, y, g) -> g.mul(y.mul(y.neg().add(1)))),
        SIN("stablehlo.sine", Accepts.FLOAT, (x, y, g) -> g.mul(x.cos())),
        COS("stablehlo.cosine", Accepts.FLOAT, (x, y, g) -> g.mul(x.sin()).neg()),
        ERF("chlo.erf", Accepts.FLOAT, (x, y, g) -> g.mul(x.mul(x).neg().exp()).mul(2 / Math.sqrt(Math.PI))),
        ERF_INV("chlo.erf_inv", Accepts.FLOAT, (x, y, g) -> g.mul(y.mul(y).exp()).mul(Math.sqrt(Math.PI) / 2)),
        FLOOR("stablehlo.floor", Accepts.FLOAT, null),
        SIGN("stablehlo.sign", Accepts.NUMERIC, null),
        NOT("stablehlo.not", Accepts.INTEGRAL, null);

        final String hlo;
        final Accepts accepts;
        final UnaryVjp vjp;

        Unary(String hlo, Accepts accepts, UnaryVjp vjp) {
            this.hlo = hlo;
            this.accepts = accepts;
            this.vjp = vjp;
        }

        String opName() {
            return hlo.substring(hlo.indexOf('.') + 1);
        }
    }

    /** Derivative rule of a binary op: cotangents of (x, y) from the inputs, result z and g. */
    interface BinaryVjp {
        Tensor[] apply(Tensor x, Tensor y, Tensor z, Tensor g);
    }

    public enum Binary {
        ADD("stablehlo.add", Accepts.NUMERIC, (x, y, z, g) -> new Tensor[] {g, g}),
        SUB("stablehlo.subtract", Accepts.NUMERIC, (x, y, z, g) -> new Tensor[] {g, g.neg()}),
        MUL("stablehlo.multiply", Accepts.NUMERIC, (x, y, z, g) -> new Tensor[] {g.mul(y), g.mul(x)}),
        DIV("stablehlo.divide", Accepts.NUMERIC, (x, y, z, g) -> new Tensor[] {g.div(y), g.mul(z).div(y).neg()}),
        POW("stablehlo.power", Accepts.FLOAT, (x, y, z, g) -> new Tensor[] {
                g.mul(y).mul(x.pow(y.sub(1))),
                // d/dy x^y = x^y log x, taken as 0 where x == 0 (as the limit from above)
                select(x.eq(0), Constants.zerosLike(x), g.mul(z).mul(x.log()))}),
        MAX("stablehlo.maximum", Accepts.NUMERIC, (x, y, z, g) -> minMaxVjp(x, y, g, Direction.GT)),
        MIN("stablehlo.minimum", Accepts.NUMERIC, (x, y, z, g) -> minMaxVjp(x, y, g, Direction.LT)),
        REM("stablehlo.remainder", Accepts.NUMERIC, null),
        AND("stablehlo.and", Accepts.INTEGRAL, null),
        OR("stablehlo.or", Accepts.INTEGRAL, null),
        XOR("stablehlo.xor", Accepts.INTEGRAL, null),
        SHL("stablehlo.shift_left", Accepts.INTEGER, null),
        SHR("stablehlo.shift_right_logical", Accepts.INTEGER, null),
        SHRA("stablehlo.shift_right_arithmetic", Accepts.INTEGER, null);

        final String hlo;
        final Accepts accepts;
        final BinaryVjp vjp;

        Binary(String hlo, Accepts accepts, BinaryVjp vjp) {
            this.hlo = hlo;
            this.accepts = accepts;
            this.vjp = vjp;
        }

        String opName() {
            return hlo.substring(hlo.indexOf('.') + 1);
        }
    }

    /** Ties split the cotangent evenly between both sides, like JAX. */
    private static Tensor[] minMaxVjp(Tensor x, Tensor y, Tensor g, Direction wins) {
        Tensor zero = Constants.zerosLike(g);
        Tensor half = g.mul(0.5);
        Tensor tie = x.eq(y);
        Tensor xWins = compare(wins, x, y);
        Tensor yWins = compare(wins, y, x);
        return new Tensor[] {select(xWins, g, select(tie, half, zero)), select(yWins, g, select(tie, half, zero))};
    }

    enum Accepts {
        FLOAT, NUMERIC, INTEGER, INTEGRAL;

        boolean ok(DType t) {
            return switch (this) {
                case FLOAT -> t.isFloating();
                case NUMERIC -> !t.isBool();
                case INTEGER -> t.isInteger();
                case INTEGRAL -> t.isInteger() || t.isBool();
            };
        }

        String describe() {
            return switch (this) {
                case FLOAT -> "a floating dtype (f32, bf16, f16, f64)";
                case NUMERIC -> "a numeric dtype";
                case INTEGER -> "an integer dtype";
                case INTEGRAL -> "an integer or pred dtype";
            };
        }
    }

    // ---- unary ----------------------------------------------------------------------------------

    public static Tensor unary(Unary u, Tensor x) {
        if (!u.accepts.ok(x.dtype())) {
            throw EngineException.op(u.opName(), "needs " + u.accepts.describe() + ", got " + x.type());
        }
        return Graph.current().add1(new UnaryOp(u), x.type(), x);
    }

    record UnaryOp(Unary u) implements Op {
        @Override
        public String name() {
            return u.opName();
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, u.hlo, null);
        }

        @Override
        public boolean differentiable() {
            return u.vjp != null;
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            return new Tensor[] {u.vjp.apply(n.in(0), n.outs[0], cts[0])};
        }
    }

    // ---- binary ---------------------------------------------------------------------------------

    /** {@code x op y} with numpy broadcasting; both must have the same dtype. */
    public static Tensor binary(Binary b, Tensor x, Tensor y) {
        String op = b.opName();
        sameDtype(op, x, y);
        if (!b.accepts.ok(x.dtype())) {
            throw EngineException.op(op, "needs " + b.accepts.describe() + ", got " + x.type() + " and " + y.type());
        }
        Shape s = broadcastShapes(op, x, y);
        return Graph.current().add1(new BinaryOp(b), new ArrayType(x.dtype(), s),
                Shapes.broadcastTo(x, s), Shapes.broadcastTo(y, s));
    }

    record BinaryOp(Binary b) implements Op {
        @Override
        public String name() {
            return b.opName();
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, b.hlo, null);
        }

        @Override
        public boolean differentiable() {
            return b.vjp != null;
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            return b.vjp.apply(n.in(0), n.in(1), n.outs[0], cts[0]);
        }
    }

    static void sameDtype(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (t.dtype() != ts[0].dtype()) {
                var sb = new StringBuilder();
                for (Tensor u : ts) {
                    sb.append(sb.isEmpty() ? "" : " and ").append(u.type());
                }
                throw EngineException.op(op, "operand dtypes differ: " + sb + "; convert one with .convert(DType)");
            }
        }
    }

    /** The numpy broadcast of the operands' shapes, or an error naming both. */
    static Shape broadcastShapes(String op, Tensor... ts) {
        int rank = 0;
        for (Tensor t : ts) {
            rank = Math.max(rank, t.rank());
        }
        int[] out = new int[rank];
        java.util.Arrays.fill(out, 1);
        for (Tensor t : ts) {
            int[] d = t.shape().dims();
            for (int i = 0; i < d.length; i++) {
                int j = rank - d.length + i;
                if (d[i] != 1) {
                    if (out[j] != 1 && out[j] != d[i]) {
                        var sb = new StringBuilder();
                        for (Tensor u : ts) {
                            sb.append(sb.isEmpty() ? "" : " and ").append(u.type());
                        }
                        throw EngineException.op(op, "shapes " + sb + " cannot be broadcast together");
                    }
                    out[j] = d[i];
                }
            }
        }
        return Shape.of(out);
    }

    // ---- compare / select / clamp / convert --------------------------------------------------------

    public enum Direction { EQ, NE, LT, LE, GT, GE }

    /** Elementwise comparison giving a pred array (broadcasting like the binary ops). */
    public static Tensor compare(Direction d, Tensor x, Tensor y) {
        sameDtype("compare", x, y);
        Shape s = broadcastShapes("compare", x, y);
        return Graph.current().add1(new CompareOp(d), new ArrayType(DType.PRED, s),
                Shapes.broadcastTo(x, s), Shapes.broadcastTo(y, s));
    }

    record CompareOp(Direction d) implements Op {
        @Override
        public String name() {
            return "compare";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.compare", "comparison_direction = #stablehlo<comparison_direction " + d
                    + ">, compare_type = #stablehlo<comparison_type " + n.in(0).dtype().compareType() + ">");
        }

        @Override
        public boolean differentiable() {
            return false;
        }
    }

    /** {@code pred ? onTrue : onFalse} elementwise, broadcasting all three. */
    public static Tensor select(Tensor pred, Tensor onTrue, Tensor onFalse) {
        if (pred.dtype() != DType.PRED) {
            throw EngineException.op("select", "the predicate must be pred, got " + pred.type());
        }
        sameDtype("select", onTrue, onFalse);
        Shape s = broadcastShapes("select", pred, onTrue, onFalse);
        return Graph.current().add1(new SelectOp(), new ArrayType(onTrue.dtype(), s),
                Shapes.broadcastTo(pred, s), Shapes.broadcastTo(onTrue, s), Shapes.broadcastTo(onFalse, s));
    }

    record SelectOp() implements Op {
        @Override
        public String name() {
            return "select";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.select", null);
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Tensor zero = Constants.zerosLike(cts[0]);
            return new Tensor[] {null, select(n.in(0), cts[0], zero), select(n.in(0), zero, cts[0])};
        }
    }

    /** {@code min(max(x, lo), hi)}; lo and hi broadcast to x's shape. */
    public static Tensor clamp(Tensor lo, Tensor x, Tensor hi) {
        sameDtype("clamp", lo, x, hi);
        Shape s = broadcastShapes("clamp", lo, x, hi);
        if (!s.equals(x.shape())) {
            throw EngineException.op("clamp", "bounds " + lo.type() + " and " + hi.type() + " must broadcast to the operand " + x.type());
        }
        return Graph.current().add1(new ClampOp(), x.type(), Shapes.broadcastTo(lo, s), x, Shapes.broadcastTo(hi, s));
    }

    record ClampOp() implements Op {
        @Override
        public String name() {
            return "clamp";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.clamp", null);
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Tensor lo = n.in(0);
            Tensor x = n.in(1);
            Tensor hi = n.in(2);
            Tensor g = cts[0];
            Tensor zero = Constants.zerosLike(g);
            return new Tensor[] {select(x.lt(lo), g, zero),
                    select(x.ge(lo).and(x.le(hi)), g, zero),
                    select(x.gt(hi), g, zero)};
        }
    }

    /** Changes the dtype (rounding to nearest even for floats; float → int truncates). */
    public static Tensor convert(Tensor x, DType to) {
        if (x.dtype() == to) {
            return x;
        }
        return Graph.current().add1(new ConvertOp(), new ArrayType(to, x.shape()), x);
    }

    record ConvertOp() implements Op {
        @Override
        public String name() {
            return "convert";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.convert", null);
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            DType from = n.in(0).dtype();
            return new Tensor[] {from.isFloating() ? convert(cts[0], from) : null};
        }
    }

    /** Reinterprets the bits as another dtype of the same width (u32 ↔ f32 for random floats). */
    public static Tensor bitcast(Tensor x, DType to) {
        if (to.byteSize() != x.dtype().byteSize()) {
            throw EngineException.op("bitcast_convert", "needs equal bit widths, got " + x.type() + " → " + to);
        }
        return Graph.current().add1(new BitcastOp(), new ArrayType(to, x.shape()), x);
    }

    record BitcastOp() implements Op {
        @Override
        public String name() {
            return "bitcast_convert";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.bitcast_convert", null);
        }

        @Override
        public boolean differentiable() {
            return false;
        }
    }
}
