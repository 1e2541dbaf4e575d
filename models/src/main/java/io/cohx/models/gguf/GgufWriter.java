package io.cohx.models.gguf;

import io.cohx.engine.DType;
import io.cohx.engine.HalfFloats;
import io.cohx.models.checkpoint.AtomicFiles;
import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.TensorInfo;
import io.cohx.models.checkpoint.TensorOps;
import io.cohx.models.checkpoint.WriteProgress;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF file (version 3, little-endian): metadata with its types, the tensor directory,
 * then each tensor's data at an aligned offset, streamed one tensor at a time from a source, so
 * writing a model needs memory for its largest tensor. Tensors are encoded as F32, F16, BF16 (both
 * rounded to nearest even) or Q8_0 (quantized as ggml's reference quantizer does). The file is
 * written under a temporary name, synced and renamed: a failed write leaves nothing under the
 * final name.
 */
public final class GgufWriter {
    private GgufWriter() {}

    /** The tensor types cohx writes. */
    public static final List<GgmlType> WRITABLE = List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0);

    /** One tensor to write: GGUF name, encoding and row-major shape. */
    public record Spec(String name, GgmlType type, long[] shape) {
        public Spec {
            shape = shape.clone();
            if (!WRITABLE.contains(type)) {
                throw new IllegalArgumentException("cohx writes GGUF tensors as " + WRITABLE + ", not " + type);
            }
            if (shape.length < 1 || shape.length > GgufReader.MAX_DIMS) {
                throw new CheckpointException("tensor '" + name + "': GGUF tensors have 1 to 4 dimensions, not "
                        + Arrays.toString(shape));
            }
            if (shape[shape.length - 1] % type.blockSize() != 0) {
                throw new CheckpointException("tensor '" + name + "': rows of " + shape[shape.length - 1]
                        + " values cannot be " + type + " (blocks of " + type.blockSize() + ")");
            }
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        long byteSize() {
            return type.byteSize(HostTensor.numel(shape));
        }
    }

    /** Supplies the values of a tensor (any float dtype, row-major, shape of the spec) when it is written. */
    @FunctionalInterface
    public interface Source {
        HostTensor get(Spec spec, Arena arena);
    }

    /**
     * Writes {@code out}: {@code metadata} in its order ({@code general.alignment} is set when
     * {@code alignment} is not the default 32), then {@code tensors} from {@code source}.
     */
    public static void write(Path out, Map<String, GgufValue> metadata, List<Spec> tensors, int alignment, Source source,
                             WriteProgress progress) {
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("GGUF alignment must be a power of two, not " + alignment);
        }
        var names = new HashSet<String>();
        for (Spec s : tensors) {
            if (!names.add(s.name())) {
                throw new CheckpointException("tensor '" + s.name() + "' is listed twice for " + out);
            }
        }
        var meta = new java.util.LinkedHashMap<>(metadata);
        if (alignment != GgufReader.DEFAULT_ALIGNMENT) {
            meta.put("general.alignment", GgufValue.u32(alignment));
        } else {
            meta.remove("general.alignment");
        }
        byte[] header = header(meta, tensors, alignment);
        Path tmp = AtomicFiles.tempSibling(out);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            pad(ch, header.length, alignment);
            int i = 0;
            for (Spec s : tensors) {
                try (Arena arena = Arena.ofConfined()) {
                    HostTensor t = source.get(s, arena);
                    if (!Arrays.equals(t.shape(), s.shape())) {
                        throw new CheckpointException("tensor '" + s.name() + "' has shape " + Arrays.toString(t.shape())
                                + " but " + Arrays.toString(s.shape()) + " was declared for " + out);
                    }
                    MemorySegment data = encode(t, s.type(), arena);
                    AtomicFiles.writeFully(ch, data);
                    pad(ch, data.byteSize(), alignment);
                }
                progress.tensorWritten(++i, tensors.size(), new TensorInfo(s.name(), DType.F32, s.shape()));
            }
            ch.force(true);
        } catch (IOException e) {
            AtomicFiles.deleteQuietly(tmp);
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            AtomicFiles.deleteQuietly(tmp);
            throw e;
        }
        AtomicFiles.moveIntoPlace(tmp, out);
    }

    private static void pad(FileChannel ch, long written, int alignment) throws IOException {
        int n = (int) (GgufReader.align(written, alignment) - written);
        if (n > 0) {
            AtomicFiles.writeFully(ch, ByteBuffer.allocate(n));
        }
    }

    private static byte[] header(Map<String, GgufValue> meta, List<Spec> tensors, int alignment) {
        var b = new Bytes();
        b.u32(GgufReader.MAGIC);
        b.u32(3);
        b.u64(tensors.size());
        b.u64(meta.size());
        for (var e : meta.entrySet()) {
            b.string(e.getKey());
            b.u32(e.getValue().type().id());
            b.value(e.getValue());
        }
        long offset = 0;
        for (Spec s : tensors) {
            b.string(s.name());
            long[] shape = s.shape();
            b.u32(shape.length);
            for (int d = shape.length - 1; d >= 0; d--) {
                b.u64(shape[d]); // ggml's ne: the fastest-varying dimension first
            }
            b.u32(s.type().id());
            b.u64(offset);
            offset += GgufReader.align(s.byteSize(), alignment);
        }
        return b.toByteArray();
    }

    /** {@code t}'s values in {@code type}'s encoding. */
    static MemorySegment encode(HostTensor t, GgmlType type, Arena arena) {
        return switch (type) {
            case F32 -> TensorOps.cast(t, DType.F32, arena).data();
            case F16 -> TensorOps.cast(t, DType.F16, arena).data();
            case BF16 -> TensorOps.cast(t, DType.BF16, arena).data();
            case Q8_0 -> quantizeQ8_0(TensorOps.cast(t, DType.F32, arena).data(), t.numel(), arena);
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Q8_0 as ggml's reference quantizer: per block of 32, {@code d = amax / 127},
     * {@code q = round(x / d)} with halves away from zero (computed as {@code x * (1/d)} in f32),
     * {@code d} stored as f16.
     */
    static MemorySegment quantizeQ8_0(MemorySegment src, long count, Arena arena) {
        long blocks = count / 32;
        MemorySegment out = arena.allocate(blocks * GgmlType.Q8_0.typeSize(), 8);
        float[] x = new float[32];
        for (long b = 0; b < blocks; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                x[j] = src.getAtIndex(F32, b * 32 + j);
                amax = Math.max(amax, Math.abs(x[j]));
            }
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            long at = b * 34;
            out.set(I16, at, HalfFloats.toF16(d));
            for (int j = 0; j < 32; j++) {
                out.set(ValueLayout.JAVA_BYTE, at + 2 + j, (byte) roundHalfAway(x[j] * id));
            }
        }
        return out;
    }

    /** {@code roundf}: nearest integer, halves away from zero, in f32 arithmetic. */
    static int roundHalfAway(float v) {
        float a = Math.abs(v);
        float fl = (float) Math.floor(a);
        float r = fl + (float) Math.floor(2f * (a - fl));
        return (int) Math.copySign(r, v);
    }

    /** A little-endian byte sink for the header. */
    private static final class Bytes extends ByteArrayOutputStream {
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        void u32(int v) {
            write(scratch.clear().putInt(v).array(), 0, 4);
        }

        void u64(long v) {
            write(scratch.clear().putLong(v).array(), 0, 8);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            write(b, 0, b.length);
        }

        void value(GgufValue v) {
            switch (v.type()) {
                case STRING -> string(v.asString());
                case ARRAY -> array(v);
                default -> scalar(v.type(), v.value());
            }
        }

        void scalar(GgufValue.Type type, Object o) {
            switch (type) {
                case UINT8, INT8 -> write(((Number) o).intValue());
                case UINT16, INT16 -> write(scratch.clear().putShort((short) ((Number) o).intValue()).array(), 0, 2);
                case UINT32, INT32 -> u32(((Number) o).intValue());
                case UINT64, INT64 -> u64(((Number) o).longValue());
                case FLOAT32 -> write(scratch.clear().putFloat((Float) o).array(), 0, 4);
                case FLOAT64 -> write(scratch.clear().putDouble((Double) o).array(), 0, 8);
                case BOOL -> write((Boolean) o ? 1 : 0);
                default -> throw new IllegalStateException(type.toString());
            }
        }

        void array(GgufValue v) {
            GgufValue.Type et = v.elementType();
            u32(et.id());
            u64(v.length());
            switch (v.value()) {
                case int[] a -> {
                    for (int x : a) {
                        scalar(et, x);
                    }
                }
                case long[] a -> {
                    for (long x : a) {
                        scalar(et, x);
                    }
                }
                case float[] a -> {
                    for (float x : a) {
                        scalar(et, x);
                    }
                }
                case double[] a -> {
                    for (double x : a) {
                        scalar(et, x);
                    }
                }
                case boolean[] a -> {
                    for (boolean x : a) {
                        scalar(et, x);
                    }
                }
                case List<?> l -> {
                    for (Object x : l) {
                        if (et == GgufValue.Type.STRING) {
                            string((String) x);
                        } else {
                            array((GgufValue) x);
                        }
                    }
                }
                default -> throw new IllegalStateException("array value " + v);
            }
        }
    }
}
