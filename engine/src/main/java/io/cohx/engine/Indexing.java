package io.cohx.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Indexed reads and writes: StableHLO gather and scatter-add (each the other's gradient), with the
 * helpers models use: {@link #take} (embedding lookup), {@link #takeAlongAxis} (picking the
 * target token's log-probability) and {@link #oneHot}.
 */
public final class Indexing {
    private Indexing() {}

    /** Gather dimension numbers, as in the StableHLO spec. */
    public record GatherDims(int[] offsetDims, int[] collapsedSliceDims, int[] startIndexMap, int indexVectorDim) {
        String mlir() {
            List<String> p = new ArrayList<>();
            add(p, "offset_dims", offsetDims);
            add(p, "collapsed_slice_dims", collapsedSliceDims);
            add(p, "start_index_map", startIndexMap);
            p.add("index_vector_dim = " + indexVectorDim);
            return "#stablehlo.gather<" + String.join(", ", p) + ">";
        }
    }

    /** Scatter dimension numbers, as in the StableHLO spec. */
    public record ScatterDims(int[] updateWindowDims, int[] insertedWindowDims, int[] scatterDimsToOperandDims, int indexVectorDim) {
        String mlir() {
            List<String> p = new ArrayList<>();
            add(p, "update_window_dims", updateWindowDims);
            add(p, "inserted_window_dims", insertedWindowDims);
            add(p, "scatter_dims_to_operand_dims", scatterDimsToOperandDims);
            p.add("index_vector_dim = " + indexVectorDim);
            return "#stablehlo.scatter<" + String.join(", ", p) + ">";
        }
    }

    private static void add(List<String> p, String name, int[] v) {
        if (v.length > 0) {
            p.add(name + " = " + Arrays.toString(v));
        }
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    /** Batch dims of {@code indices}: all but the index vector dim (which may be one past the end). */
    private static int[] batchDims(Tensor indices, int ivd) {
        int[] d = indices.shape().dims();
        int[] r = new int[ivd < d.length ? d.length - 1 : d.length];
        for (int i = 0, k = 0; i < d.length; i++) {
            if (i != ivd) {
                r[k++] = d[i];
            }
        }
        return r;
    }

    public static Tensor gather(Tensor operand, Tensor indices, GatherDims dims, int[] sliceSizes) {
        if (!indices.dtype().isInteger()) {
            throw EngineException.op("gather", "indices must be integers, got " + indices.type());
        }
        if (sliceSizes.length != operand.rank()) {
            throw EngineException.op("gather", "slice sizes " + Arrays.toString(sliceSizes) + " need one entry per axis of " + operand.type());
        }
        int[] batch = batchDims(indices, dims.indexVectorDim);
        List<Integer> window = new ArrayList<>();
        for (int i = 0; i < operand.rank(); i++) {
            if (sliceSizes[i] > operand.shape().dim(i)) {
                throw EngineException.op("gather", "slice size " + sliceSizes[i] + " exceeds axis " + i + " of " + operand.type());
            }
            if (!contains(dims.collapsedSliceDims, i)) {
                window.add(sliceSizes[i]);
            } else if (sliceSizes[i] != 1) {
                throw EngineException.op("gather", "collapsed axis " + i + " must have slice size 1, got " + sliceSizes[i]);
            }
        }
        if (window.size() != dims.offsetDims.length) {
            throw EngineException.op("gather", "offset_dims " + Arrays.toString(dims.offsetDims) + " must name one output dim per uncollapsed operand axis of " + operand.type());
        }
        int rank = batch.length + window.size();
        int[] out = new int[rank];
        for (int i = 0, b = 0, w = 0; i < rank; i++) {
            out[i] = contains(dims.offsetDims, i) ? window.get(w++) : batch[b++];
        }
        return Graph.current().add1(new GatherOp(dims, sliceSizes.clone()), new ArrayType(operand.dtype(), Shape.of(out)), operand, indices);
    }

    record GatherOp(GatherDims dims, int[] sliceSizes) implements Op {
        @Override
        public String name() {
            return "gather";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "stablehlo.gather", "dimension_numbers = " + dims.mlir() + ", slice_sizes = " + Shapes.i64s(sliceSizes)
                    + ", indices_are_sorted = false");
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Tensor operand = n.in(0);
            ScatterDims sd = new ScatterDims(dims.offsetDims, dims.collapsedSliceDims, dims.startIndexMap, dims.indexVectorDim);
            return new Tensor[] {scatterAdd(Constants.zerosLike(operand), n.in(1), cts[0], sd), null};
        }
    }

    /** Adds {@code updates} into {@code operand} at the indexed windows (duplicates accumulate). */
    public static Tensor scatterAdd(Tensor operand, Tensor indices, Tensor updates, ScatterDims dims) {
        Elementwise.sameDtype("scatter", operand, updates);
        if (!indices.dtype().isInteger()) {
            throw EngineException.op("scatter", "indices must be integers, got " + indices.type());
        }
        int expect = batchDims(indices, dims.indexVectorDim).length + dims.updateWindowDims.length;
        if (updates.rank() != expect) {
            throw EngineException.op("scatter", "updates " + updates.type() + " must have rank " + expect + " for indices "
                    + indices.type() + " and update_window_dims " + Arrays.toString(dims.updateWindowDims));
        }
        return Graph.current().add1(new ScatterAddOp(dims), operand.type(), operand, indices, updates);
    }

    record ScatterAddOp(ScatterDims dims) implements Op {
        @Override
        public String name() {
            return "scatter";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.line(e.results(n) + " = \"stablehlo.scatter\"(" + e.operands(n.inputs) + ") "
                    + e.scalarRegion("stablehlo.add", n.in(0).dtype(), n.id)
                    + " {scatter_dimension_numbers = " + dims.mlir() + ", indices_are_sorted = false, unique_indices = false} : ("
                    + Emitter.types(n.inputs) + ") -> " + n.types[0].mlir());
        }

        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            Tensor operand = n.in(0);
            Tensor updates = n.in(2);
            int[] sizes = new int[operand.rank()];
            int w = 0;
            for (int i = 0; i < sizes.length; i++) {
                sizes[i] = contains(dims.insertedWindowDims, i) ? 1 : updates.shape().dim(dims.updateWindowDims[w++]);
            }
            GatherDims gd = new GatherDims(dims.updateWindowDims, dims.insertedWindowDims, dims.scatterDimsToOperandDims, dims.indexVectorDim);
            return new Tensor[] {cts[0], null, gather(cts[0], n.in(1), gd, sizes)};
        }
    }

    /** {@code table[ids]} along axis 0: ids {@code [B...]}, table {@code [V, D...]} → {@code [B..., D...]}. */
    public static Tensor take(Tensor table, Tensor ids) {
        int r = ids.rank();
        int[] sizes = table.shape().dims();
        sizes[0] = 1;
        int[] offset = new int[table.rank() - 1];
        for (int i = 0; i < offset.length; i++) {
            offset[i] = r + i;
        }
        return gather(table, ids, new GatherDims(offset, new int[] {0}, new int[] {0}, r), sizes);
    }

    /**
     * numpy's take_along_axis: {@code out[..., j, ...] = x[..., idx[..., j, ...], ...]} on
     * {@code axis}; idx has x's rank and matches x on every other axis.
     */
    public static Tensor takeAlongAxis(Tensor x, Tensor idx, int axis) {
        int a = x.shape().axis(axis);
        if (idx.rank() != x.rank() || !idx.shape().with(a, 1).equals(x.shape().with(a, 1))) {
            throw EngineException.op("take_along_axis", "indices " + idx.type() + " must match " + x.type() + " on every axis but " + a);
        }
        if (!idx.dtype().isInteger()) {
            throw EngineException.op("take_along_axis", "indices must be integers, got " + idx.type());
        }
        int r = x.rank();
        Shape is = idx.shape();
        Shape withVec = Shape.of(append(is.dims(), 1));
        Tensor[] parts = new Tensor[r];
        for (int d = 0; d < r; d++) {
            Tensor comp = d == a ? idx : Shapes.iota(idx.dtype(), is, d);
            parts[d] = Shapes.reshape(comp, withVec.dims());
        }
        Tensor full = Shapes.concatenate(r, parts);
        int[] all = new int[r];
        int[] ones = new int[r];
        for (int i = 0; i < r; i++) {
            all[i] = i;
            ones[i] = 1;
        }
        return gather(x, full, new GatherDims(new int[0], all, all, r), ones);
    }

    private static int[] append(int[] a, int v) {
        int[] r = Arrays.copyOf(a, a.length + 1);
        r[a.length] = v;
        return r;
    }

    /** {@code ids [B...]} → {@code [B..., n]} with 1 at each id and 0 elsewhere. */
    public static Tensor oneHot(Tensor ids, int n, DType dtype) {
        if (!ids.dtype().isInteger()) {
            throw EngineException.op("one_hot", "ids must be integers, got " + ids.type());
        }
        Shape s = Shape.of(append(ids.shape().dims(), n));
        Tensor iota = Shapes.iota(ids.dtype(), s, ids.rank());
        Tensor hit = Elementwise.compare(Elementwise.Direction.EQ, Shapes.expandDims(ids, -1), iota);
        return Elementwise.convert(hit, dtype);
    }
}
