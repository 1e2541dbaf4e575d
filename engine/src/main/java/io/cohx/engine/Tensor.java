package io.cohx.engine;

import io.cohx.engine.Elementwise.Binary;
import io.cohx.engine.Elementwise.Direction;
import io.cohx.engine.Elementwise.Unary;

/**
 * A traced array: one output of a node in a {@link Graph}. It has a static {@link ArrayType} but
 * no data; data exists only when a compiled program runs. The instance methods are shorthands
 * for the op families ({@link Elementwise}, {@link Shapes}, {@link Reductions}, {@link Dot});
 * Java numbers passed to them become constants of this array's dtype.
 */
public final class Tensor {
    final Node node;
    final int index;

    Tensor(Node node, int index) {
        this.node = node;
        this.index = index;
    }

    public ArrayType type() {
        return node.types[index];
    }

    public DType dtype() {
        return type().dtype();
    }

    public Shape shape() {
        return type().shape();
    }

    public int rank() {
        return shape().rank();
    }

    public int dim(int axis) {
        return shape().dim(axis);
    }

    /** The graph this value belongs to. */
    public Graph graph() {
        return node.graph;
    }

    @Override
    public String toString() {
        return type() + " from " + node.op.name();
    }

    private Tensor c(double v) {
        return Constants.scalar(v, dtype());
    }

    // ---- arithmetic ---------------------------------------------------------------------------
    public Tensor add(Tensor o) { return Elementwise.binary(Binary.ADD, this, o); }
    public Tensor add(double v) { return add(c(v)); }
    public Tensor sub(Tensor o) { return Elementwise.binary(Binary.SUB, this, o); }
    public Tensor sub(double v) { return sub(c(v)); }
    public Tensor mul(Tensor o) { return Elementwise.binary(Binary.MUL, this, o); }
    public Tensor mul(double v) { return mul(c(v)); }
    public Tensor div(Tensor o) { return Elementwise.binary(Binary.DIV, this, o); }
    public Tensor div(double v) { return div(c(v)); }
    public Tensor pow(Tensor o) { return Elementwise.binary(Binary.POW, this, o); }
    public Tensor pow(double v) { return pow(c(v)); }
    public Tensor max(Tensor o) { return Elementwise.binary(Binary.MAX, this, o); }
    public Tensor max(double v) { return max(c(v)); }
    public Tensor min(Tensor o) { return Elementwise.binary(Binary.MIN, this, o); }
    public Tensor min(double v) { return min(c(v)); }
    public Tensor rem(Tensor o) { return Elementwise.binary(Binary.REM, this, o); }
    public Tensor and(Tensor o) { return Elementwise.binary(Binary.AND, this, o); }
    public Tensor or(Tensor o) { return Elementwise.binary(Binary.OR, this, o); }
    public Tensor xor(Tensor o) { return Elementwise.binary(Binary.XOR, this, o); }
    public Tensor shiftLeft(Tensor o) { return Elementwise.binary(Binary.SHL, this, o); }
    public Tensor shiftRightLogical(Tensor o) { return Elementwise.binary(Binary.SHR, this, o); }

    public Tensor neg() { return Elementwise.unary(Unary.NEG, this); }
    public Tensor abs() { return Elementwise.unary(Unary.ABS, this); }
    public Tensor exp() { return Elementwise.unary(Unary.EXP, this); }
    public Tensor log() { return Elementwise.unary(Unary.LOG, this); }
    public Tensor log1p() { return Elementwise.unary(Unary.LOG1P, this); }
    public Tensor sqrt() { return Elementwise.unary(Unary.SQRT, this); }
    public Tensor rsqrt() { return Elementwise.unary(Unary.RSQRT, this); }
    public Tensor tanh() { return Elementwise.unary(Unary.TANH, this); }
    public Tensor logistic() { return Elementwise.unary(Unary.LOGISTIC, this); }
    public Tensor sin() { return Elementwise.unary(Unary.SIN, this); }
    public Tensor cos() { return Elementwise.unary(Unary.COS, this); }
    public Tensor erf() { return Elementwise.unary(Unary.ERF, this); }
    public Tensor erfInv() { return Elementwise.unary(Unary.ERF_INV, this); }
    public Tensor floor() { return Elementwise.unary(Unary.FLOOR, this); }
    public Tensor sign() { return Elementwise.unary(Unary.SIGN, this); }
    public Tensor not() { return Elementwise.unary(Unary.NOT, this); }
    public Tensor square() { return mul(this); }

    // ---- comparisons ----------------------------------------------------------------------------
    public Tensor eq(Tensor o) { return Elementwise.compare(Direction.EQ, this, o); }
    public Tensor eq(double v) { return eq(c(v)); }
    public Tensor ne(Tensor o) { return Elementwise.compare(Direction.NE, this, o); }
    public Tensor lt(Tensor o) { return Elementwise.compare(Direction.LT, this, o); }
    public Tensor lt(double v) { return lt(c(v)); }
    public Tensor le(Tensor o) { return Elementwise.compare(Direction.LE, this, o); }
    public Tensor gt(Tensor o) { return Elementwise.compare(Direction.GT, this, o); }
    public Tensor gt(double v) { return gt(c(v)); }
    public Tensor ge(Tensor o) { return Elementwise.compare(Direction.GE, this, o); }
    public Tensor ge(double v) { return ge(c(v)); }

    /** {@code this ? a : b} for a pred array. */
    public Tensor select(Tensor a, Tensor b) { return Elementwise.select(this, a, b); }
    public Tensor clamp(double lo, double hi) { return Elementwise.clamp(c(lo), this, c(hi)); }
    public Tensor convert(DType to) { return Elementwise.convert(this, to); }

    // ---- shape ---------------------------------------------------------------------------------
    public Tensor reshape(int... dims) { return Shapes.reshape(this, dims); }
    public Tensor transpose(int... perm) { return Shapes.transpose(this, perm); }
    public Tensor broadcastTo(int... dims) { return Shapes.broadcastTo(this, Shape.of(dims)); }
    public Tensor broadcastTo(Shape s) { return Shapes.broadcastTo(this, s); }
    public Tensor expandDims(int axis) { return Shapes.expandDims(this, axis); }
    public Tensor squeeze(int... axes) { return Shapes.squeeze(this, axes); }
    public Tensor slice(int axis, int start, int end) { return Shapes.slice(this, axis, start, end); }

    // ---- reductions and contractions ------------------------------------------------------------
    public Tensor sum(int... axes) { return Reductions.sum(this, axes); }
    public Tensor mean(int... axes) { return Reductions.mean(this, axes); }
    public Tensor reduceMax(int... axes) { return Reductions.max(this, axes); }
    public Tensor reduceMin(int... axes) { return Reductions.min(this, axes); }
    public Tensor argmax(int axis) { return Reductions.argmax(this, axis); }
    public Tensor softmax(int axis) { return Reductions.softmax(this, axis); }
    public Tensor logSoftmax(int axis) { return Reductions.logSoftmax(this, axis); }
    public Tensor logsumexp(int axis) { return Reductions.logsumexp(this, axis); }
    public Tensor matmul(Tensor o) { return Dot.matmul(this, o); }
}
