package io.cohx.models.gguf;

import io.cohx.engine.DType;
import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.TensorInfo;
import io.cohx.models.checkpoint.TensorReader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a GGUF file (llama.cpp's model format, versions 2 and 3, little-endian) by memory-mapping
 * it: the header, every metadata value with its type, and the tensor directory are parsed and
 * checked on open (a truncated or corrupt file is reported at once, naming the file, the byte
 * offset and the key or tensor being read); tensor data is dequantized one tensor at a time into
 * the caller's arena, so a model is never held in the Java heap. Tensor shapes are given in
 * row-major (numpy) order, the reverse of ggml's {@code ne}. As a {@link TensorReader} it yields
 * every tensor as f32 under its GGUF name.
 */
public final class GgufReader implements TensorReader {
    /** "GGUF" read as a little-endian u32. */
    static final int MAGIC = 0x46554747;
    static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * One tensor of the directory: ggml type, {@code ne} (ggml order: {@code ne[0]} varies fastest),
     * absolute offset of its data in the file and byte size.
     */
    public record Tensor(String name, GgmlType type, long[] ne, long offset, long byteSize) {
        public Tensor {
            ne = ne.clone();
        }

        @Override
        public long[] ne() {
            return ne.clone();
        }

        /** Row-major shape (numpy order): {@code ne} reversed. */
        public long[] shape() {
            long[] s = new long[ne.length];
            for (int i = 0; i < ne.length; i++) {
                s[i] = ne[ne.length - 1 - i];
            }
            return s;
        }

        public long numel() {
            return HostTensor.numel(ne);
        }

        @Override
        public String toString() {
            return name + " " + type + Arrays.toString(shape());
        }
    }

    private final Path path;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment file;
    private final int version;
    private final int alignment;
    private final long dataOffset;
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final List<TensorInfo> infos = new ArrayList<>();

    /** Opens and checks {@code path}; errors name the file and what is wrong. */
    public static GgufReader open(Path path) {
        return new GgufReader(path);
    }

    private GgufReader(Path path) {
        this.path = path;
        try {
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            } catch (NoSuchFileException e) {
                throw new CheckpointException("no GGUF file at " + path);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
            }
            var c = new Cursor();
            c.need(8, "the GGUF header");
            int magic = file.get(U32, 0);
            if (magic != MAGIC) {
                throw new CheckpointException(path + " is not a GGUF file: it starts with bytes "
                        + hex(file.asSlice(0, 4)) + ", not \"GGUF\"");
            }
            int v = file.get(U32, 4);
            if (v == 1) {
                throw new CheckpointException(path + " is GGUF version 1 (2023, 32-bit counts), which cohx does not read;"
                        + " convert it again with a current llama.cpp (versions 2 and 3 are read)");
            }
            if (v != 2 && v != 3) {
                boolean bigEndian = Integer.reverseBytes(v) == 2 || Integer.reverseBytes(v) == 3;
                throw new CheckpointException(path + (bigEndian
                        ? " is a big-endian GGUF file; cohx reads little-endian GGUF (versions 2 and 3) only"
                        : " has GGUF version " + Integer.toUnsignedString(v) + "; cohx reads versions 2 and 3"));
            }
            version = v;
            c.pos = 8;
            long tensorCount = c.u64("the tensor count");
            long kvCount = c.u64("the metadata count");
            // Counts are not checked against the file size here: every key and tensor consumes
            // bytes, so a wrong count ends in a "truncated" error naming what was being read.
            for (long i = 0; i < kvCount; i++) {
                long at = c.pos;
                String key = c.string("metadata key #" + i);
                c.context = "metadata key '" + key + "'";
                long typeId = Integer.toUnsignedLong(c.u32("its type"));
                GgufValue value = c.value(typeId, 0);
                if (metadata.put(key, value) != null) {
                    throw new CheckpointException(path + ": metadata key '" + key + "' appears twice (second at byte " + at + ")");
                }
            }
            c.context = null;
            alignment = alignmentOf(metadata.get("general.alignment"));
            var offsets = new ArrayList<Long>(); // relative to the data section, checked once its start is known
            var names = new ArrayList<String>();
            var types = new ArrayList<GgmlType>();
            var dims = new ArrayList<long[]>();
            for (long i = 0; i < tensorCount; i++) {
                String name = c.string("the name of tensor #" + i);
                c.context = "tensor '" + name + "'";
                int nDims = c.u32("its number of dimensions");
                if (nDims < 1 || nDims > MAX_DIMS) {
                    throw new CheckpointException(path + ": tensor '" + name + "' has " + Integer.toUnsignedString(nDims)
                            + " dimensions; GGUF tensors have 1 to " + MAX_DIMS);
                }
                long[] ne = new long[nDims];
                for (int d = 0; d < nDims; d++) {
                    ne[d] = c.u64("its dimension " + d);
                    if (ne[d] < 0 || ne[d] > (1L << 40)) {
                        throw new CheckpointException(path + ": tensor '" + name + "' has dimension " + Long.toUnsignedString(ne[d])
                                + "; the file is corrupt");
                    }
                }
                long typeId = Integer.toUnsignedLong(c.u32("its type"));
                GgmlType type = GgmlType.byId(typeId);
                if (type == null) {
                    throw new CheckpointException(path + ": tensor '" + name + "' has unknown tensor type " + typeId
                            + "; cohx reads " + GgmlType.readableTypes() + " (a newer llama.cpp type? re-quantize to one of those)");
                }
                if (ne[0] % type.blockSize() != 0) {
                    throw new CheckpointException(path + ": tensor '" + name + "' is " + type + " with rows of " + ne[0]
                            + " values, not a multiple of its block size " + type.blockSize() + "; the file is corrupt");
                }
                offsets.add(c.u64("its data offset"));
                names.add(name);
                types.add(type);
                dims.add(ne);
                c.context = null;
            }
            dataOffset = align(c.pos, alignment);
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                GgmlType type = types.get(i);
                long[] ne = dims.get(i);
                long rel = offsets.get(i);
                long bytes = type.byteSize(HostTensor.numel(ne));
                if (rel < 0 || rel % alignment != 0) {
                    throw new CheckpointException(path + ": tensor '" + name + "' has data offset " + Long.toUnsignedString(rel)
                            + ", not a multiple of the alignment " + alignment + "; the file is corrupt");
                }
                if (dataOffset + rel + bytes > file.byteSize()) {
                    throw new CheckpointException(path + " is truncated: tensor '" + name + "' (" + type + " "
                            + Arrays.toString(new Tensor(name, type, ne, 0, 0).shape()) + ") needs bytes " + (dataOffset + rel)
                            + ".." + (dataOffset + rel + bytes) + " but the file has " + file.byteSize()
                            + "; download or convert it again");
                }
                var t = new Tensor(name, type, ne, dataOffset + rel, bytes);
                if (tensors.put(name, t) != null) {
                    throw new CheckpointException(path + ": tensor '" + name + "' appears twice");
                }
                infos.add(new TensorInfo(name, DType.F32, t.shape()));
            }
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private int alignmentOf(GgufValue v) {
        if (v == null) {
            return DEFAULT_ALIGNMENT;
        }
        if (v.type() != GgufValue.Type.UINT32) {
            throw new CheckpointException(path + ": general.alignment is a " + v.describe() + "; GGUF makes it a UINT32");
        }
        long a = v.asLong();
        if (a <= 0 || Long.bitCount(a) != 1) {
            throw new CheckpointException(path + ": general.alignment " + a + " is not a power of two");
        }
        return (int) a;
    }

    /** Whether {@code path} is a regular file that starts with GGUF's magic. */
    public static boolean isGguf(Path path) {
        if (!Files.isRegularFile(path)) {
            return false;
        }
        try (var in = Files.newInputStream(path)) {
            byte[] b = in.readNBytes(4);
            return b.length == 4 && b[0] == 'G' && b[1] == 'G' && b[2] == 'U' && b[3] == 'F';
        } catch (IOException e) {
            return false;
        }
    }

    static long align(long x, long a) {
        return (x + a - 1) / a * a;
    }

    /** The file read. */
    @Override
    public Path source() {
        return path;
    }

    /** 2 or 3. */
    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    /** Byte offset of the tensor data section. */
    public long dataOffset() {
        return dataOffset;
    }

    /** Every metadata key and value, in file order. */
    public Map<String, GgufValue> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    /** The value of {@code key}, or null. */
    public GgufValue get(String key) {
        return metadata.get(key);
    }

    /** The tensor directory, in file order. */
    public List<Tensor> directory() {
        return List.copyOf(tensors.values());
    }

    /** Tensor {@code name} of the directory, or null. */
    public Tensor tensor(String name) {
        return tensors.get(name);
    }

    /** Every tensor as the f32 {@link #read} gives, in file order. */
    @Override
    public List<TensorInfo> tensors() {
        return Collections.unmodifiableList(infos);
    }

    @Override
    public TensorInfo info(String name) {
        Tensor t = tensors.get(name);
        return t == null ? null : new TensorInfo(name, DType.F32, t.shape());
    }

    /** Tensor {@code name} dequantized to f32. */
    @Override
    public HostTensor read(String name, Arena into) {
        return read(name, DType.F32, into);
    }

    /**
     * Tensor {@code name} dequantized to {@code out} (F32, or BF16 rounded to nearest even from
     * the f32 value), allocated in {@code into}; shape in row-major order.
     */
    public HostTensor read(String name, DType out, Arena into) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new CheckpointException(path + " has no tensor '" + name + "'");
        }
        if (!t.type().readable()) {
            throw new CheckpointException(path + ": tensor '" + name + "' is " + t.type() + ", which cohx cannot dequantize;"
                    + " it reads " + GgmlType.readableTypes() + " (re-quantize the model to one of those with llama.cpp)");
        }
        HostTensor h = HostTensor.allocate(name, out, t.shape(), into);
        Dequantize.run(t.type(), raw(t), t.numel(), h.data(), out);
        return h;
    }

    /** The raw bytes of tensor {@code t} (a view of the mapping, valid until {@link #close()}). */
    public MemorySegment raw(Tensor t) {
        return file.asSlice(t.offset(), t.byteSize());
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    private static String hex(MemorySegment s) {
        var sb = new StringBuilder();
        for (byte b : s.toArray(ValueLayout.JAVA_BYTE)) {
            sb.append(String.format("%02x ", b));
        }
        return sb.toString().trim();
    }

    /** Sequential reads of the header with bounds checks; errors say what was being read and where. */
    private final class Cursor {
        long pos;
        String context;

        void need(long n, String what) {
            if (n < 0 || pos + n > file.byteSize()) {
                throw new CheckpointException(path + " is truncated: reading " + what + (context != null ? " of " + context : "")
                        + " at byte " + pos + " needs " + (n < 0 ? Long.toUnsignedString(n) : n) + " bytes but the file has "
                        + file.byteSize() + "; download or convert it again");
            }
        }

        int u32(String what) {
            need(4, what);
            int v = file.get(U32, pos);
            pos += 4;
            return v;
        }

        long u64(String what) {
            need(8, what);
            long v = file.get(U64, pos);
            pos += 8;
            return v;
        }

        /** A name (key or tensor): must be UTF-8. */
        String string(String what) {
            byte[] b = bytes(what);
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                throw new CheckpointException(path + ": " + what + (context != null ? " of " + context : "") + " at byte "
                        + (pos - b.length) + " is not UTF-8; the file is corrupt");
            }
        }

        /**
         * A string value: invalid UTF-8 (a few vocabularies have such token pieces) becomes U+FFFD
         * rather than making the whole file unreadable, as llama.cpp does not check either.
         */
        String text(String what) {
            return new String(bytes(what), StandardCharsets.UTF_8);
        }

        private byte[] bytes(String what) {
            long n = u64("the length of " + what);
            need(n, what);
            if (n > Integer.MAX_VALUE - 8) {
                throw new CheckpointException(path + ": " + what + (context != null ? " of " + context : "") + " claims "
                        + n + " bytes; the file is corrupt");
            }
            byte[] b = file.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
            pos += n;
            return b;
        }

        GgufValue value(long typeId, int depth) {
            GgufValue.Type type = GgufValue.Type.byId(typeId);
            if (type == null) {
                throw new CheckpointException(path + ": " + context + " has unknown value type " + typeId
                        + " at byte " + (pos - 4) + "; GGUF value types are 0..12");
            }
            return switch (type) {
                case ARRAY -> array(depth);
                case STRING -> GgufValue.string(text("the value"));
                default -> new GgufValue(type, null, scalar(type));
            };
        }

        Object scalar(GgufValue.Type type) {
            need(type.size, "a " + type + " value");
            long at = pos;
            pos += type.size;
            return switch (type) {
                case UINT8 -> Byte.toUnsignedInt(file.get(ValueLayout.JAVA_BYTE, at));
                case INT8 -> (int) file.get(ValueLayout.JAVA_BYTE, at);
                case UINT16 -> Short.toUnsignedInt(file.get(U16, at));
                case INT16 -> (int) file.get(U16, at);
                case UINT32 -> Integer.toUnsignedLong(file.get(U32, at));
                case INT32 -> file.get(U32, at);
                case UINT64, INT64 -> file.get(U64, at);
                case FLOAT32 -> file.get(F32, at);
                case FLOAT64 -> file.get(F64, at);
                case BOOL -> bool(file.get(ValueLayout.JAVA_BYTE, at), at);
                default -> throw new IllegalStateException(type.toString());
            };
        }

        private boolean bool(byte b, long at) {
            if (b != 0 && b != 1) {
                throw new CheckpointException(path + ": " + context + " has bool byte " + b + " at byte " + at
                        + " (must be 0 or 1); the file is corrupt");
            }
            return b == 1;
        }

        GgufValue array(int depth) {
            if (depth > 8) {
                throw new CheckpointException(path + ": " + context + " nests arrays more than 8 deep; the file is corrupt");
            }
            long elemId = Integer.toUnsignedLong(u32("the array element type"));
            GgufValue.Type et = GgufValue.Type.byId(elemId);
            if (et == null) {
                throw new CheckpointException(path + ": " + context + " is an array of unknown value type " + elemId
                        + " at byte " + (pos - 4) + "; GGUF value types are 0..12");
            }
            long n = u64("the array length");
            // Every element takes at least one byte (8 for a string's length), so a length beyond the
            // rest of the file is corruption, caught before allocating for it.
            long min = et.size > 0 ? et.size : 8;
            if (n < 0 || n > (file.byteSize() - pos) / min || n > Integer.MAX_VALUE - 8) {
                throw new CheckpointException(path + " is truncated or corrupt: " + context + " claims "
                        + Long.toUnsignedString(n) + " " + et + " elements at byte " + (pos - 8) + ", more than the "
                        + (file.byteSize() - pos) + " bytes left hold");
            }
            int len = (int) n;
            Object values = switch (et) {
                case STRING -> {
                    var l = new ArrayList<String>(len);
                    for (int i = 0; i < len; i++) {
                        l.add(text("array element " + i));
                    }
                    yield Collections.unmodifiableList(l);
                }
                case ARRAY -> {
                    var l = new ArrayList<GgufValue>(len);
                    for (int i = 0; i < len; i++) {
                        l.add(array(depth + 1));
                    }
                    yield Collections.unmodifiableList(l);
                }
                case FLOAT32 -> {
                    float[] a = new float[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = (Float) scalar(et);
                    }
                    yield a;
                }
                case FLOAT64 -> {
                    double[] a = new double[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = (Double) scalar(et);
                    }
                    yield a;
                }
                case BOOL -> {
                    boolean[] a = new boolean[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = (Boolean) scalar(et);
                    }
                    yield a;
                }
                default -> {
                    if (et.wide()) {
                        long[] a = new long[len];
                        for (int i = 0; i < len; i++) {
                            a[i] = (Long) scalar(et);
                        }
                        yield a;
                    }
                    int[] a = new int[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = (Integer) scalar(et);
                    }
                    yield a;
                }
            };
            return new GgufValue(GgufValue.Type.ARRAY, et, values);
        }
    }
}
