package io.cohx.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Ops that move data without arithmetic: broadcast, reshape, transpose, slice, concatenate, pad,
 * dynamic slice/update, iota and reverse, plus numpy-style helpers built from them
 * (broadcastTo, expandDims, squeeze, stack).
 */
public final class Shapes {
    private Shapes() {}

    static String i64s(int... v) {
        if (v.length == 0) {
            return "array<i64>";
        }
        var sb = new StringBuilder("array<i64: ");
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(v[i]);
        }
        return sb.append('>').toString();
    }

    // ---- broadcast ------------------------------------------------------------------------------

    /** Operand dim i becomes result dim {@code dims[i]} (increasing); its size must match or be 1. */
    public static Tensor broadcastInDim(Tensor x, Shape out, int... dims) {
        if (dims.length != x.rank()) {
            throw EngineException.op("broadcast_in_dim", "needs one target dim per operand dim: " + x.type()
                    + " with dims " + Arrays.toString(dims) + " to " + out);
        }
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0 || dims[i] >= out.rank() || (i > 0 && dims[i] <= dims[i - 1])
                    || (x.shape().dim(i) != 1 && x.shape().dim(i) != out.dim(dims[i]))) {
                throw EngineException.op("broadcast_in_dim", "cannot broadcast " + x.type() + " to " + out
                        + " with dims " + Arrays.toString(dims));
            }
        }
        if (out.equals(x.shape())) {
            return x;
        }
        return Graph.current().add1(new BroadcastOp(dims.clone()), new ArrayType(x.dtype(), out), x);
    }

    /** numpy broadcasting: aligns trailing dims; size-1 dims stretch. */
    public static Tensor broadcastTo(Tensor x, Shape out) {
        if (x.shape().equals(out)) {
            return x;
        }
        int k = x.rank();
        if (k > out.rank()) {
            throw EngineException.op("broadcast", "cannot broadcast " + x.type() + " to the lower-rank shape " + out);
        }
        int[] dims = new int[k];
        for (int i = 0; i < k; i++) {
            dims[i] = out.rank() - k + i;
            int d = x.shape().dim(i);
            if (d != 1 && d != out.dim(dims[i])) {
                throw EngineException.op("broadcast", "cannot broadcast " + x.type() + " to " + out);
            }
        }
        return broadcastInDim(x, out, dims);
    }

    record BroadcastOp(int[] dims) implements Op {
        @Override
        public String name() {
            return "broadcast_in_dim";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.broadcast_in_dim", "broadcast_dimensions = " + i64s(dims));
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Tensor x = n.in(0);
            Shape out = n.types[0].shape();
            boolean[] keep = new boolean[out.rank()];
            for (int i = 0; i < dims.length; i++) {
                keep[dims[i]] = x.shape().dim(i) == out.dim(dims[i]);
            }
            List<Integer> sum = new ArrayList<>();
            for (int a = 0; a < out.rank(); a++) {
                if (!keep[a]) {
                    sum.add(a);
                }
            }
            Tensor r = Reductions.sum(cts[0], sum.stream().mapToInt(Integer::intValue).toArray());
            return new Tensor[] {reshape(r, x.shape().dims())};
        }
    }

    /** Inserts a size-1 axis at {@code axis} (which may be {@code rank}). */
    public static Tensor expandDims(Tensor x, int axis) {
        int a = axis < 0 ? axis + x.rank() + 1 : axis;
        if (a < 0 || a > x.rank()) {
            throw EngineException.op("expand_dims", "axis " + axis + " out of range for " + x.type());
        }
        int[] d = x.shape().dims();
        int[] r = new int[d.length + 1];
        for (int i = 0, j = 0; i < r.length; i++) {
            r[i] = i == a ? 1 : d[j++];
        }
        return reshape(x, r);
    }

    /** Removes size-1 axes. */
    public static Tensor squeeze(Tensor x, int... axes) {
        for (int a : axes) {
            if (x.shape().dim(a) != 1) {
                throw EngineException.op("squeeze", "axis " + a + " of " + x.type() + " has size " + x.shape().dim(a) + ", not 1");
            }
        }
        return reshape(x, x.shape().drop(axes).dims());
    }

    // ---- reshape / transpose --------------------------------------------------------------------

    /** Row-major reshape; one dim may be -1 (inferred). */
    public static Tensor reshape(Tensor x, int... dims) {
        int[] d = dims.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1 && infer < 0) {
                infer = i;
            } else {
                known *= d[i];
            }
        }
        if (infer >= 0 && known > 0) {
            d[infer] = (int) (x.shape().size() / known);
        }
        Shape s;
        try {
            s = Shape.of(d);
        } catch (EngineException e) {
            throw EngineException.op("reshape", "bad target " + Arrays.toString(dims) + " for " + x.type());
        }
        if (s.size() != x.shape().size()) {
            throw EngineException.op("reshape", "cannot reshape " + x.type() + " (" + x.shape().size() + " elements) to "
                    + Arrays.toString(dims) + " (" + s.size() + " elements)");
        }
        if (s.equals(x.shape())) {
            return x;
        }
        return Graph.current().add1(new ReshapeOp(), new ArrayType(x.dtype(), s), x);
    }

    record ReshapeOp() implements Op {
        @Override
        public String name() {
            return "reshape";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.reshape", null);
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            return new Tensor[] {reshape(cts[0], n.in(0).shape().dims())};
        }
    }

    /** Result dim i is operand dim {@code perm[i]}. */
    public static Tensor transpose(Tensor x, int... perm) {
        boolean[] seen = new boolean[x.rank()];
        boolean ok = perm.length == x.rank();
        boolean identity = true;
        for (int i = 0; ok && i < perm.length; i++) {
            ok = perm[i] >= 0 && perm[i] < x.rank() && !seen[perm[i]];
            if (ok) {
                seen[perm[i]] = true;
            }
            identity &= perm[i] == i;
        }
        if (!ok) {
            throw EngineException.op("transpose", "permutation " + Arrays.toString(perm) + " is not a permutation of the axes of " + x.type());
        }
        if (identity) {
            return x;
        }
        int[] d = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            d[i] = x.shape().dim(perm[i]);
        }
        return Graph.current().add1(new TransposeOp(perm.clone()), new ArrayType(x.dtype(), Shape.of(d)), x);
    }

    record TransposeOp(int[] perm) implements Op {
        @Override
        public String name() {
            return "transpose";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.transpose", "permutation = " + i64s(perm));
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            int[] inv = new int[perm.length];
            for (int i = 0; i < perm.length; i++) {
                inv[perm[i]] = i;
            }
            return new Tensor[] {transpose(cts[0], inv)};
        }
    }

    /** Swaps the last two axes. */
    public static Tensor swapLastAxes(Tensor x) {
        int r = x.rank();
        int[] p = new int[r];
        for (int i = 0; i < r; i++) {
            p[i] = i;
        }
        p[r - 1] = r - 2;
        p[r - 2] = r - 1;
        return transpose(x, p);
    }

    // ---- slice / concatenate / pad / reverse ------------------------------------------------------

    public static Tensor slice(Tensor x, int[] start, int[] limit, int[] strides) {
        int r = x.rank();
        if (start.length != r || limit.length != r || strides.length != r) {
            throw EngineException.op("slice", "start/limit/strides need " + r + " entries for " + x.type());
        }
        int[] d = new int[r];
        for (int i = 0; i < r; i++) {
            if (start[i] < 0 || limit[i] > x.shape().dim(i) || start[i] > limit[i] || strides[i] < 1) {
                throw EngineException.op("slice", "bad range on axis " + i + " of " + x.type() + ": start "
                        + Arrays.toString(start) + ", limit " + Arrays.toString(limit) + ", strides " + Arrays.toString(strides));
            }
            d[i] = (limit[i] - start[i] + strides[i] - 1) / strides[i];
        }
        return Graph.current().add1(new SliceOp(start.clone(), limit.clone(), strides.clone()), new ArrayType(x.dtype(), Shape.of(d)), x);
    }

    /** {@code x[..., start:end, ...]} along one axis. */
    public static Tensor slice(Tensor x, int axis, int start, int end) {
        int a = x.shape().axis(axis);
        int[] s = new int[x.rank()];
        int[] l = x.shape().dims();
        int[] st = new int[x.rank()];
        Arrays.fill(st, 1);
        s[a] = start;
        l[a] = end;
        return slice(x, s, l, st);
    }

    record SliceOp(int[] start, int[] limit, int[] strides) implements Op {
        @Override
        public String name() {
            return "slice";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.slice", "start_indices = " + i64s(start) + ", limit_indices = " + i64s(limit)
                    + ", strides = " + i64s(strides));
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Shape in = n.in(0).shape();
            Shape out = n.types[0].shape();
            int r = in.rank();
            int[] hi = new int[r];
            int[] interior = new int[r];
            for (int i = 0; i < r; i++) {
                int k = out.dim(i);
                interior[i] = strides[i] - 1;
                hi[i] = k == 0 ? in.dim(i) - start[i] : in.dim(i) - start[i] - (k - 1) * strides[i] - 1;
            }
            return new Tensor[] {pad(cts[0], Constants.scalar(0, cts[0].dtype()), start, hi, interior)};
        }
    }

    public static Tensor concatenate(int axis, Tensor... xs) {
        if (xs.length == 0) {
            throw EngineException.op("concatenate", "needs at least one operand");
        }
        Elementwise.sameDtype("concatenate", xs);
        int a = xs[0].shape().axis(axis);
        int total = 0;
        for (Tensor x : xs) {
            if (x.rank() != xs[0].rank() || !x.shape().with(a, 0).equals(xs[0].shape().with(a, 0))) {
                var sb = new StringBuilder();
                for (Tensor t : xs) {
                    sb.append(sb.isEmpty() ? "" : ", ").append(t.type());
                }
                throw EngineException.op("concatenate", "operands must agree on every axis but " + a + ": " + sb);
            }
            total += x.shape().dim(a);
        }
        if (xs.length == 1) {
            return xs[0];
        }
        return Graph.current().add1(new ConcatOp(a), new ArrayType(xs[0].dtype(), xs[0].shape().with(a, total)), xs);
    }

    record ConcatOp(int axis) implements Op {
        @Override
        public String name() {
            return "concatenate";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.concatenate", "dimension = " + axis + " : i64");
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Tensor[] r = new Tensor[n.inputs.length];
            int at = 0;
            for (int i = 0; i < r.length; i++) {
                int size = n.in(i).shape().dim(axis);
                r[i] = slice(cts[0], axis, at, at + size);
                at += size;
            }
            return r;
        }
    }

    /** Stacks equal-shaped arrays along a new axis. */
    public static Tensor stack(int axis, Tensor... xs) {
        Tensor[] e = new Tensor[xs.length];
        for (int i = 0; i < xs.length; i++) {
            e[i] = expandDims(xs[i], axis);
        }
        return concatenate(axis, e);
    }

    /** Pads with {@code value} (a 0-d array): low/high may be negative (cropping); interior ≥ 0. */
    public static Tensor pad(Tensor x, Tensor value, int[] low, int[] high, int[] interior) {
        Elementwise.sameDtype("pad", x, value);
        int r = x.rank();
        if (value.rank() != 0 || low.length != r || high.length != r || interior.length != r) {
            throw EngineException.op("pad", "needs a 0-d padding value and " + r + " low/high/interior entries for "
                    + x.type() + ", got value " + value.type());
        }
        int[] d = new int[r];
        for (int i = 0; i < r; i++) {
            int n = x.shape().dim(i);
            d[i] = low[i] + high[i] + n + Math.max(0, n - 1) * interior[i];
            if (interior[i] < 0 || d[i] < 0) {
                throw EngineException.op("pad", "bad padding on axis " + i + " of " + x.type() + ": low " + Arrays.toString(low)
                        + ", high " + Arrays.toString(high) + ", interior " + Arrays.toString(interior));
            }
        }
        return Graph.current().add1(new PadOp(low.clone(), high.clone(), interior.clone()), new ArrayType(x.dtype(), Shape.of(d)), x, value);
    }

    record PadOp(int[] low, int[] high, int[] interior) implements Op {
        @Override
        public String name() {
            return "pad";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.pad", "edge_padding_low = " + i64s(low) + ", edge_padding_high = " + i64s(high)
                    + ", interior_padding = " + i64s(interior));
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Tensor g = cts[0];
            int r = low.length;
            int[] nl = new int[r];
            int[] nh = new int[r];
            int[] z = new int[r];
            int[] st = new int[r];
            for (int i = 0; i < r; i++) {
                nl[i] = -low[i];
                nh[i] = -high[i];
                st[i] = interior[i] + 1;
            }
            Tensor cropped = pad(g, Constants.scalar(0, g.dtype()), nl, nh, z);
            Tensor gx = slice(cropped, new int[r], cropped.shape().dims(), st);
            Tensor gv = Reductions.sum(g).sub(Reductions.sum(gx));
            return new Tensor[] {gx, gv};
        }
    }

    public static Tensor reverse(Tensor x, int... axes) {
        int[] a = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            a[i] = x.shape().axis(axes[i]);
        }
        return Graph.current().add1(new ReverseOp(a), x.type(), x);
    }

    record ReverseOp(int[] axes) implements Op {
        @Override
        public String name() {
            return "reverse";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.reverse", "dimensions = " + i64s(axes));
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            return new Tensor[] {reverse(cts[0], axes)};
        }
    }

    // ---- dynamic slice / update -----------------------------------------------------------------

    private static void checkIndices(String op, Tensor x, Tensor[] idx) {
        if (idx.length != x.rank()) {
            throw EngineException.op(op, "needs one start index per axis of " + x.type() + ", got " + idx.length);
        }
        for (Tensor i : idx) {
            if (i.rank() != 0 || !i.dtype().isInteger()) {
                throw EngineException.op(op, "start indices must be 0-d integers, got " + i.type());
            }
            Elementwise.sameDtype(op, idx);
        }
    }

    /** {@code x[i0:i0+s0, ...]} with traced start indices (clamped into range, as XLA does). */
    public static Tensor dynamicSlice(Tensor x, Tensor[] idx, int... sizes) {
        checkIndices("dynamic_slice", x, idx);
        for (int i = 0; i < sizes.length; i++) {
            if (sizes.length != x.rank() || sizes[i] < 0 || sizes[i] > x.shape().dim(i)) {
                throw EngineException.op("dynamic_slice", "slice sizes " + Arrays.toString(sizes) + " do not fit " + x.type());
            }
        }
        Tensor[] in = new Tensor[idx.length + 1];
        in[0] = x;
        System.arraycopy(idx, 0, in, 1, idx.length);
        return Graph.current().add1(new DynamicSliceOp(sizes.clone()), new ArrayType(x.dtype(), Shape.of(sizes)), in);
    }

    record DynamicSliceOp(int[] sizes) implements Op {
        @Override
        public String name() {
            return "dynamic_slice";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.dynamic_slice", "slice_sizes = " + i64s(sizes));
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Tensor[] idx = Arrays.copyOfRange(n.inputs, 1, n.inputs.length);
            Tensor[] r = new Tensor[n.inputs.length];
            r[0] = dynamicUpdateSlice(Constants.zerosLike(n.in(0)), cts[0], idx);
            return r;
        }
    }

    /** Writes {@code update} into {@code x} at the traced start indices (clamped). */
    public static Tensor dynamicUpdateSlice(Tensor x, Tensor update, Tensor... idx) {
        checkIndices("dynamic_update_slice", x, idx);
        Elementwise.sameDtype("dynamic_update_slice", x, update);
        boolean fits = update.rank() == x.rank();
        for (int i = 0; fits && i < x.rank(); i++) {
            fits = update.shape().dim(i) <= x.shape().dim(i);
        }
        if (!fits) {
            throw EngineException.op("dynamic_update_slice", "update " + update.type() + " does not fit into " + x.type());
        }
        Tensor[] in = new Tensor[idx.length + 2];
        in[0] = x;
        in[1] = update;
        System.arraycopy(idx, 0, in, 2, idx.length);
        return Graph.current().add1(new DynamicUpdateSliceOp(), x.type(), in);
    }

    record DynamicUpdateSliceOp() implements Op {
        @Override
        public String name() {
            return "dynamic_update_slice";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.dynamic_update_slice", null);
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Tensor[] idx = Arrays.copyOfRange(n.inputs, 2, n.inputs.length);
            Tensor u = n.in(1);
            Tensor[] r = new Tensor[n.inputs.length];
            r[0] = dynamicUpdateSlice(cts[0], Constants.zerosLike(u), idx);
            r[1] = dynamicSlice(cts[0], idx, u.shape().dims());
            return r;
        }
    }

    // ---- iota ---------------------------------------------------------------------------------

    /** Counts 0, 1, 2, ... along {@code axis} of {@code shape}. */
    public static Tensor iota(DType dtype, Shape shape, int axis) {
        int a = shape.axis(axis);
        return Graph.current().add1(new IotaOp(a), new ArrayType(dtype, shape));
    }

    /** 0 .. n-1 as a 1-d array. */
    public static Tensor arange(int n, DType dtype) {
        return iota(dtype, Shape.of(n), 0);
    }

    record IotaOp(int axis) implements Op {
        @Override
        public String name() {
            return "iota";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.iota", "iota_dimension = " + axis + " : i64");
        }

        @Override
        public boolean differentiable() {
            return false;
        }
    }
}
