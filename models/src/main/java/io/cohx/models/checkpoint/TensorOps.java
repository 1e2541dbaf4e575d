package io.cohx.models.checkpoint;

import io.cohx.engine.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * The few host-side tensor rearrangements checkpoint conversion needs: dtype casts, 2-D
 * transposes (flax kernels are [in, out], PyTorch Linear weights [out, in]), row permutations
 * and concatenation of model-parallel shards. Each writes a new tensor into the caller's arena.
 */
public final class TensorOps {
    private TensorOps() {}

    private static final int BLOCK = 64;

    /** {@code t} converted to {@code to}; float↔float casts round to nearest even. Same-type casts return {@code t}. */
    public static HostTensor cast(HostTensor t, DType to, Arena arena) {
        if (t.dtype() == to) {
            return t;
        }
        if (!t.dtype().isFloating() || !to.isFloating()) {
            throw new CheckpointException("tensor '" + t.name() + "': cannot cast " + t.dtype() + " to " + to
                    + " (only float types are converted)");
        }
        HostTensor out = HostTensor.allocate(t.name(), to, t.shape(), arena);
        MemorySegment src = t.data();
        MemorySegment dst = out.data();
        long n = t.numel();
        if (t.dtype() == DType.F32 && to == DType.BF16) {
            for (long i = 0; i < n; i++) {
                dst.setAtIndex(HostTensor.I16, i, io.cohx.engine.HalfFloats.toBf16(src.getAtIndex(HostTensor.F32, i)));
            }
        } else if (t.dtype() == DType.BF16 && to == DType.F32) {
            for (long i = 0; i < n; i++) {
                dst.setAtIndex(HostTensor.F32, i, io.cohx.engine.HalfFloats.bf16ToFloat(src.getAtIndex(HostTensor.I16, i)));
            }
        } else {
            for (long i = 0; i < n; i++) {
                setDouble(dst, to, i, t.getDouble(i));
            }
        }
        return out;
    }

    private static void setDouble(MemorySegment dst, DType to, long i, double v) {
        switch (to) {
            case F32 -> dst.setAtIndex(HostTensor.F32, i, (float) v);
            // Through f32 first: every f16/bf16 value is exact in f32, and rounding the f32 is what
            // numpy does; only an f64 source could double-round, which no checkpoint we read has.
            case BF16 -> dst.setAtIndex(HostTensor.I16, i, io.cohx.engine.HalfFloats.toBf16((float) v));
            case F16 -> dst.setAtIndex(HostTensor.I16, i, io.cohx.engine.HalfFloats.toF16((float) v));
            case F64 -> dst.setAtIndex(HostTensor.F64, i, v);
            default -> throw new IllegalStateException(to.toString());
        }
    }

    /** The transpose of a 2-D tensor, same dtype, named {@code name}. */
    public static HostTensor transpose2d(HostTensor t, String name, Arena arena) {
        if (t.rank() != 2) {
            throw new CheckpointException("tensor '" + t.name() + "': expected 2 dimensions to transpose, got "
                    + Arrays.toString(t.shape()));
        }
        long rows = t.dim(0);
        long cols = t.dim(1);
        HostTensor out = HostTensor.allocate(name, t.dtype(), new long[] {cols, rows}, arena);
        MemorySegment s = t.data();
        MemorySegment d = out.data();
        switch (t.dtype().byteSize()) {
            case 2 -> transpose16(s, d, rows, cols);
            case 4 -> transpose32(s, d, rows, cols);
            case 8 -> transpose64(s, d, rows, cols);
            default -> transpose8(s, d, rows, cols);
        }
        return out;
    }

    // One loop per element size, blocked so reads and writes stay within a few cache lines.
    private static void transpose16(MemorySegment s, MemorySegment d, long rows, long cols) {
        var l = ValueLayout.JAVA_SHORT_UNALIGNED;
        for (long r0 = 0; r0 < rows; r0 += BLOCK) {
            long r1 = Math.min(rows, r0 + BLOCK);
            for (long c0 = 0; c0 < cols; c0 += BLOCK) {
                long c1 = Math.min(cols, c0 + BLOCK);
                for (long r = r0; r < r1; r++) {
                    for (long c = c0; c < c1; c++) {
                        d.setAtIndex(l, c * rows + r, s.getAtIndex(l, r * cols + c));
                    }
                }
            }
        }
    }

    private static void transpose32(MemorySegment s, MemorySegment d, long rows, long cols) {
        var l = ValueLayout.JAVA_INT_UNALIGNED;
        for (long r0 = 0; r0 < rows; r0 += BLOCK) {
            long r1 = Math.min(rows, r0 + BLOCK);
            for (long c0 = 0; c0 < cols; c0 += BLOCK) {
                long c1 = Math.min(cols, c0 + BLOCK);
                for (long r = r0; r < r1; r++) {
                    for (long c = c0; c < c1; c++) {
                        d.setAtIndex(l, c * rows + r, s.getAtIndex(l, r * cols + c));
                    }
                }
            }
        }
    }

    private static void transpose64(MemorySegment s, MemorySegment d, long rows, long cols) {
        var l = ValueLayout.JAVA_LONG_UNALIGNED;
        for (long r0 = 0; r0 < rows; r0 += BLOCK) {
            long r1 = Math.min(rows, r0 + BLOCK);
            for (long c0 = 0; c0 < cols; c0 += BLOCK) {
                long c1 = Math.min(cols, c0 + BLOCK);
                for (long r = r0; r < r1; r++) {
                    for (long c = c0; c < c1; c++) {
                        d.setAtIndex(l, c * rows + r, s.getAtIndex(l, r * cols + c));
                    }
                }
            }
        }
    }

    private static void transpose8(MemorySegment s, MemorySegment d, long rows, long cols) {
        for (long r = 0; r < rows; r++) {
            for (long c = 0; c < cols; c++) {
                d.set(ValueLayout.JAVA_BYTE, c * rows + r, s.get(ValueLayout.JAVA_BYTE, r * cols + c));
            }
        }
    }

    /**
     * Rows rearranged: row {@code i} of the result is row {@code sourceRow[i]} of {@code t}
     * (first dimension; the rest of each row is copied as a block).
     */
    public static HostTensor permuteRows(HostTensor t, int[] sourceRow, Arena arena) {
        if (t.rank() < 1 || sourceRow.length != t.dim(0)) {
            throw new CheckpointException("tensor '" + t.name() + "': permutation of " + sourceRow.length
                    + " rows does not fit shape " + Arrays.toString(t.shape()));
        }
        HostTensor out = HostTensor.allocate(t.name(), t.dtype(), t.shape(), arena);
        long rowBytes = t.byteSize() / Math.max(1, t.dim(0));
        for (int i = 0; i < sourceRow.length; i++) {
            MemorySegment.copy(t.data(), sourceRow[i] * rowBytes, out.data(), i * rowBytes, rowBytes);
        }
        return out;
    }

    /**
     * Concatenation of {@code parts} along {@code dim} (all other dimensions equal), as Meta's
     * model-parallel shards are merged. {@code dim} -1 means the parts are replicas: the first is
     * returned after checking the others are byte-identical.
     */
    public static HostTensor concat(List<HostTensor> parts, int dim, String name, Arena arena) {
        HostTensor first = parts.getFirst();
        if (dim < 0) {
            for (HostTensor p : parts) {
                if (!p.contentEquals(first)) {
                    throw new CheckpointException("tensor '" + name + "': shards disagree on a replicated tensor ("
                            + Arrays.toString(first.shape()) + " vs " + Arrays.toString(p.shape()) + ")");
                }
            }
            return first.withName(name);
        }
        long[] shape = first.shape();
        long total = 0;
        for (HostTensor p : parts) {
            long[] ps = p.shape();
            boolean ok = p.dtype() == first.dtype() && ps.length == shape.length;
            for (int i = 0; ok && i < ps.length; i++) {
                ok = i == dim || ps[i] == shape[i];
            }
            if (!ok) {
                throw new CheckpointException("tensor '" + name + "': shards cannot be joined on dimension " + dim
                        + ": " + first.dtype() + Arrays.toString(shape) + " vs " + p.dtype() + Arrays.toString(ps));
            }
            total += ps[dim];
        }
        shape[dim] = total;
        HostTensor out = HostTensor.allocate(name, first.dtype(), shape, arena);
        long outer = 1;
        for (int i = 0; i < dim; i++) {
            outer *= shape[i];
        }
        long inner = first.byteSize() / Math.max(1, outer * first.dim(dim)); // bytes per index of dim
        long outRow = total * inner;
        long at = 0;
        for (HostTensor p : parts) {
            long chunk = p.dim(dim) * inner;
            for (long o = 0; o < outer; o++) {
                MemorySegment.copy(p.data(), o * chunk, out.data(), o * outRow + at, chunk);
            }
            at += chunk;
        }
        return out;
    }
}
