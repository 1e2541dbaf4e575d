package io.cohx.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A dense row-major array on the host, backed by a native {@link MemorySegment} in the layout
 * PJRT copies from (little-endian, bf16/f16 as raw 16-bit patterns, pred as one byte). Memory is
 * reclaimed by the garbage collector (an automatic arena), so no close is needed. Converts to and
 * from Java arrays; conversions into bf16/f16 round to nearest even.
 */
public final class NdArray {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble D = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort S = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final ArrayType type;
    private final MemorySegment seg;

    private NdArray(ArrayType type, MemorySegment seg) {
        this.type = type;
        this.seg = seg;
    }

    public static NdArray zeros(DType dtype, int... dims) {
        return zeros(new ArrayType(dtype, Shape.of(dims)));
    }

    public static NdArray zeros(ArrayType type) {
        long bytes = type.shape().size() * type.dtype().byteSize();
        return new NdArray(type, Arena.ofAuto().allocate(Math.max(1, bytes), 64).asSlice(0, bytes));
    }

    /** Wraps a copy of {@code bytes} (raw little-endian elements). */
    public static NdArray ofBytes(ArrayType type, byte[] bytes) {
        NdArray a = zeros(type);
        if (bytes.length != a.seg.byteSize()) {
            throw new EngineException("host array " + type + " needs " + a.seg.byteSize() + " bytes, got " + bytes.length);
        }
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, a.seg, 0, bytes.length);
        return a;
    }

    /** Values of any dtype from doubles (rounded to nearest even for bf16/f16/f32). */
    public static NdArray of(DType dtype, double[] values, int... dims) {
        NdArray a = zeros(dtype, dims);
        a.checkCount(values.length);
        for (int i = 0; i < values.length; i++) {
            a.set(i, values[i]);
        }
        return a;
    }

    public static NdArray of(float[] values, int... dims) {
        NdArray a = zeros(DType.F32, dims);
        a.checkCount(values.length);
        MemorySegment.copy(values, 0, a.seg, F, 0, values.length);
        return a;
    }

    public static NdArray of(double[] values, int... dims) {
        NdArray a = zeros(DType.F64, dims);
        a.checkCount(values.length);
        MemorySegment.copy(values, 0, a.seg, D, 0, values.length);
        return a;
    }

    public static NdArray of(int[] values, int... dims) {
        NdArray a = zeros(DType.S32, dims);
        a.checkCount(values.length);
        MemorySegment.copy(values, 0, a.seg, I, 0, values.length);
        return a;
    }

    public static NdArray of(long[] values, int... dims) {
        NdArray a = zeros(DType.S64, dims);
        a.checkCount(values.length);
        MemorySegment.copy(values, 0, a.seg, L, 0, values.length);
        return a;
    }

    public static NdArray of(boolean[] values, int... dims) {
        NdArray a = zeros(DType.PRED, dims);
        a.checkCount(values.length);
        for (int i = 0; i < values.length; i++) {
            a.seg.set(ValueLayout.JAVA_BYTE, i, (byte) (values[i] ? 1 : 0));
        }
        return a;
    }

    public static NdArray scalar(DType dtype, double v) {
        return of(dtype, new double[] {v});
    }

    private void checkCount(int n) {
        if (n != type.shape().size()) {
            throw new EngineException("host array " + type + " needs " + type.shape().size() + " values, got " + n);
        }
    }

    public ArrayType type() {
        return type;
    }

    public DType dtype() {
        return type.dtype();
    }

    public Shape shape() {
        return type.shape();
    }

    public long size() {
        return type.shape().size();
    }

    /** The backing memory (row-major, little-endian). */
    public MemorySegment segment() {
        return seg;
    }

    public byte[] toBytes() {
        return seg.toArray(ValueLayout.JAVA_BYTE);
    }

    /** Element {@code i} (row-major) as a double; u32 and u8 read as unsigned. */
    public double get(long i) {
        return switch (type.dtype()) {
            case F32 -> seg.getAtIndex(F, i);
            case F64 -> seg.getAtIndex(D, i);
            case BF16 -> HalfFloats.bf16ToFloat(seg.getAtIndex(S, i));
            case F16 -> Float.float16ToFloat(seg.getAtIndex(S, i));
            case S32 -> seg.getAtIndex(I, i);
            case S64 -> seg.getAtIndex(L, i);
            case U32 -> Integer.toUnsignedLong(seg.getAtIndex(I, i));
            case U8 -> Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, i));
            case PRED -> seg.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0;
        };
    }

    /** Sets element {@code i}, rounding to nearest even for floats and truncating for integers. */
    public void set(long i, double v) {
        switch (type.dtype()) {
            case F32 -> seg.setAtIndex(F, i, (float) v);
            case F64 -> seg.setAtIndex(D, i, v);
            case BF16 -> seg.setAtIndex(S, i, HalfFloats.toBf16(v));
            case F16 -> seg.setAtIndex(S, i, HalfFloats.toF16(v));
            case S32 -> seg.setAtIndex(I, i, (int) (long) v);
            case S64 -> seg.setAtIndex(L, i, (long) v);
            case U32 -> seg.setAtIndex(I, i, (int) (long) v);
            case U8 -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) (long) v);
            case PRED -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) (v != 0 ? 1 : 0));
        }
    }

    public double[] toDoubleArray() {
        if (type.dtype() == DType.F64) {
            return seg.toArray(D);
        }
        double[] r = new double[Math.toIntExact(size())];
        for (int i = 0; i < r.length; i++) {
            r[i] = get(i);
        }
        return r;
    }

    public float[] toFloatArray() {
        if (type.dtype() == DType.F32) {
            return seg.toArray(F);
        }
        float[] r = new float[Math.toIntExact(size())];
        for (int i = 0; i < r.length; i++) {
            r[i] = (float) get(i);
        }
        return r;
    }

    public int[] toIntArray() {
        if (type.dtype() == DType.S32 || type.dtype() == DType.U32) {
            return seg.toArray(I);
        }
        int[] r = new int[Math.toIntExact(size())];
        for (int i = 0; i < r.length; i++) {
            r[i] = (int) (long) get(i);
        }
        return r;
    }

    public long[] toLongArray() {
        if (type.dtype() == DType.S64) {
            return seg.toArray(L);
        }
        long[] r = new long[Math.toIntExact(size())];
        for (int i = 0; i < r.length; i++) {
            r[i] = (long) get(i);
        }
        return r;
    }

    /** A copy in another dtype. */
    public NdArray convert(DType to) {
        NdArray r = zeros(new ArrayType(to, type.shape()));
        for (long i = 0; i < size(); i++) {
            r.set(i, get(i));
        }
        return r;
    }

    @Override
    public String toString() {
        int n = (int) Math.min(size(), 8);
        var sb = new StringBuilder(type.toString()).append(" [");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ", ").append(get(i));
        }
        return sb.append(size() > n ? ", ...]" : "]").toString();
    }
}
