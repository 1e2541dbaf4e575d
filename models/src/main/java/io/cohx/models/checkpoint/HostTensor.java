package io.cohx.models.checkpoint;

import io.cohx.engine.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One named tensor on the host for checkpoint I/O: element type, row-major shape and the raw
 * little-endian bytes. The data is a {@link MemorySegment} that this record does not own: it is
 * a view into a memory-mapped file (valid until its reader closes) or memory of an arena the
 * caller controls. Kept deliberately small; the engine's host array is bridged to it elsewhere.
 */
public record HostTensor(String name, DType dtype, long[] shape, MemorySegment data) {

    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public HostTensor {
        shape = shape.clone();
        long need = numel(shape) * dtype.byteSize();
        if (data.byteSize() != need) {
            throw new IllegalArgumentException("tensor '" + name + "': " + data.byteSize() + " bytes of data for "
                    + dtype + Arrays.toString(shape) + ", which needs " + need);
        }
    }

    /** A zero-filled tensor allocated in {@code arena}. */
    public static HostTensor allocate(String name, DType dtype, long[] shape, Arena arena) {
        return new HostTensor(name, dtype, shape, arena.allocate(numel(shape) * dtype.byteSize(), 64));
    }

    /** An f32 tensor holding {@code values} (on the heap). */
    public static HostTensor ofFloats(String name, long[] shape, float... values) {
        var seg = MemorySegment.ofArray(new byte[values.length * 4]);
        for (int i = 0; i < values.length; i++) {
            seg.setAtIndex(F32, i, values[i]);
        }
        return new HostTensor(name, DType.F32, shape, seg);
    }

    /** A copy of this tensor as the engine's host array (GC-managed memory). */
    public io.cohx.engine.NdArray toNdArray() {
        var a = io.cohx.engine.NdArray.zeros(new io.cohx.engine.ArrayType(dtype, io.cohx.engine.Shape.of(shape)));
        MemorySegment.copy(data, 0, a.segment(), 0, data.byteSize());
        return a;
    }

    /** A view of the engine's host array {@code a} as a tensor named {@code name} (no copy). */
    public static HostTensor of(String name, io.cohx.engine.NdArray a) {
        return new HostTensor(name, a.dtype(), a.shape().longDims(), a.segment());
    }

    /** Element count of {@code shape} (1 for a scalar). */
    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long numel() {
        return numel(shape);
    }

    public long byteSize() {
        return data.byteSize();
    }

    /** A copy of the shape (records of arrays hand out the array itself otherwise). */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    /** The same data under another name. */
    public HostTensor withName(String newName) {
        return new HostTensor(newName, dtype, shape, data);
    }

    /** The same data with another shape of equal element count. */
    public HostTensor reshape(long... newShape) {
        return new HostTensor(name, dtype, newShape, data);
    }

    /** Element {@code i} (flat, row-major) as a double, for any floating or integer type. */
    public double getDouble(long i) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32, i);
            case BF16 -> io.cohx.engine.HalfFloats.bf16ToFloat(data.getAtIndex(I16, i));
            case F16 -> io.cohx.engine.HalfFloats.f16ToFloat(data.getAtIndex(I16, i));
            case F64 -> data.getAtIndex(F64, i);
            case S32 -> data.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i);
            case U32 -> Integer.toUnsignedLong(data.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i));
            case S64 -> data.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i);
            case U8 -> Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, i));
            case PRED -> data.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
        };
    }

    /** All elements as f32 (convenience for tests and small tensors). */
    public float[] toFloats() {
        if (numel() > Integer.MAX_VALUE) {
            throw new IllegalStateException("tensor '" + name + "' is too large for a float[]");
        }
        float[] out = new float[(int) numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) getDouble(i);
        }
        return out;
    }

    /** Whether dtype, shape and every byte are equal (names are not compared). */
    public boolean contentEquals(HostTensor o) {
        return dtype == o.dtype && Arrays.equals(shape, o.shape) && data.mismatch(o.data) == -1;
    }

    /** {@code name dtype[shape]}, as error messages print a tensor. */
    public String describe() {
        return "'" + name + "' " + dtype + Arrays.toString(shape);
    }

    @Override
    public String toString() {
        return "HostTensor[" + describe() + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HostTensor t && name.equals(t.name) && contentEquals(t);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
}
