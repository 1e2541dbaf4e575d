package io.cohx.models.checkpoint;

import io.cohx.engine.DType;

import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.core.buffer.ByteBufferInput;
import org.msgpack.value.ValueType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the original CoH/EasyLM "streaming" checkpoint
 * (docs/CHECKPOINTS.md#reference-streaming-format): a msgpack stream of
 * {@code [key-path tuple, flax to_bytes(value)]} pairs, where an array value is a msgpack ext
 * (type 1 ndarray, 3 numpy scalar) holding the msgpack triple {@code [shape, dtype name, raw
 * bytes]}; arrays over 1 GiB are flax's chunked dicts. The file is memory-mapped and indexed in
 * one pass that reads only the small headers, so tensors are zero-copy views (chunked arrays are
 * assembled in the caller's arena). Tensor names are the key paths joined with dots.
 */
public final class StreamingReader implements TensorReader {

    /** How a record's value is stored. */
    public enum Kind { NDARRAY, NPSCALAR, CHUNKED, NATIVE }

    /**
     * One record: its key path, kind, tensor info (null for NATIVE), data spans in the file and,
     * for NATIVE values (plain msgpack such as a Python int), the encoded value bytes.
     */
    public record Record(List<String> key, Kind kind, TensorInfo info, List<MemorySegment> chunks, byte[] raw) {
        public String name() {
            return String.join(".", key);
        }
    }

    static final int EXT_NDARRAY = 1;
    static final int EXT_NPSCALAR = 3;
    static final String CHUNKED_FLAG = "__msgpack_chunked_array__";

    private final Path file;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment all;
    private final List<Record> records = new ArrayList<>();
    private final Map<String, Record> byName = new LinkedHashMap<>();
    private final List<TensorInfo> infos = new ArrayList<>();

    private StreamingReader(Path file) {
        this.file = file;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Opens and indexes {@code file}; a truncated or corrupt file fails here, naming the record. */
    public static StreamingReader open(Path file) {
        var r = new StreamingReader(file);
        try {
            r.index();
            return r;
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
    }

    private void index() {
        long pos = 0;
        long size = all.byteSize();
        String last = null;
        while (pos < size) {
            Record rec;
            long next;
            try {
                var parsed = parseRecord(pos);
                rec = parsed.record;
                next = parsed.end;
            } catch (MessagePackException | IllegalStateException | IllegalArgumentException | IOException e) {
                throw new CheckpointException(file + ": corrupt streaming checkpoint at byte " + pos
                        + (last == null ? " (first record)" : " (the record after '" + last + "')")
                        + ": " + e.getMessage(), e);
            }
            if (byName.putIfAbsent(rec.name(), rec) != null) {
                throw new CheckpointException(file + ": key '" + rec.name() + "' appears twice");
            }
            records.add(rec);
            if (rec.info() != null) {
                infos.add(rec.info());
            }
            last = rec.name();
            pos = next;
        }
    }

    private record Parsed(Record record, long end) {}

    private Parsed parseRecord(long pos) throws IOException {
        MessageUnpacker u = unpackerAt(pos);
        if (u.unpackArrayHeader() != 2) {
            throw new IllegalStateException("a record is not a [key, value] pair");
        }
        int kn = u.unpackArrayHeader();
        List<String> key = new ArrayList<>(kn);
        for (int i = 0; i < kn; i++) {
            key.add(unpackText(u));
        }
        String name = String.join(".", key);
        long blobLen;
        MessageFormat f = u.getNextFormat();
        if (f.getValueType() == ValueType.BINARY) {
            blobLen = u.unpackBinaryHeader();
        } else if (f.getValueType() == ValueType.STRING) { // old msgpack-python wrote bytes as raw strings
            blobLen = u.unpackRawStringHeader();
        } else {
            throw new IllegalStateException("value of '" + name + "' is " + f + ", not the bytes of flax to_bytes");
        }
        long blob = pos + u.getTotalReadBytes();
        long end = blob + (blobLen & 0xffffffffL);
        if (end > all.byteSize()) {
            throw new CheckpointException(file + " is truncated: tensor '" + name + "' needs bytes up to " + end
                    + " but the file has " + all.byteSize() + " (copy or download it again)");
        }
        Record rec = parseValue(key, blob, end);
        return new Parsed(rec, end);
    }

    private Record parseValue(List<String> key, long blob, long end) throws IOException {
        String name = String.join(".", key);
        MessageUnpacker u = unpackerAt(blob, end);
        MessageFormat f = u.getNextFormat();
        if (f.getValueType() == ValueType.EXTENSION) {
            var arr = parseArrayExt(name, blob, end);
            if (arr.end != end) {
                throw new IllegalStateException("value of '" + name + "' has " + (end - arr.end) + " stray bytes");
            }
            Kind kind = arr.extType == EXT_NPSCALAR ? Kind.NPSCALAR : Kind.NDARRAY;
            return new Record(key, kind, arr.info.withName(name), List.of(arr.data), null);
        }
        if (f.getValueType() == ValueType.MAP) {
            return parseChunked(key, blob, end);
        }
        byte[] raw = all.asSlice(blob, end - blob).toArray(ValueLayout.JAVA_BYTE);
        return new Record(key, Kind.NATIVE, null, List.of(), raw);
    }

    private record ArrayExt(int extType, TensorInfo info, MemorySegment data, long end) {}

    /** Parses one ndarray/npscalar ext starting at absolute offset {@code pos}. */
    private ArrayExt parseArrayExt(String name, long pos, long limit) throws IOException {
        MessageUnpacker u = unpackerAt(pos, limit);
        var h = u.unpackExtensionTypeHeader();
        if (h.getType() != EXT_NDARRAY && h.getType() != EXT_NPSCALAR) {
            throw new IllegalStateException("value of '" + name + "' is msgpack ext type " + h.getType()
                    + ", not a flax ndarray (1) or numpy scalar (3)");
        }
        long extEnd = pos + u.getTotalReadBytes() + (h.getLength() & 0xffffffffL);
        if (u.unpackArrayHeader() != 3) {
            throw new IllegalStateException("ndarray '" + name + "' is not [shape, dtype, bytes]");
        }
        int rank = u.unpackArrayHeader();
        long[] shape = new long[rank];
        for (int i = 0; i < rank; i++) {
            shape[i] = u.unpackLong();
        }
        String dtypeName = unpackText(u);
        DType dtype = DTypeNames.fromNumpy(dtypeName);
        if (dtype == null) {
            throw new CheckpointException(file + ": tensor '" + name + "' has dtype '" + dtypeName
                    + "', which cohx does not read (float32, bfloat16, float16, float64, int32, int64, uint8, bool)");
        }
        long dataLen = u.getNextFormat().getValueType() == ValueType.STRING
                ? u.unpackRawStringHeader() & 0xffffffffL : u.unpackBinaryHeader() & 0xffffffffL;
        long dataStart = pos + u.getTotalReadBytes();
        long need = HostTensor.numel(shape) * dtype.byteSize();
        if (dataLen != need) {
            throw new CheckpointException(file + ": tensor '" + name + "' holds " + dataLen + " bytes but "
                    + dtypeName + java.util.Arrays.toString(shape) + " needs " + need + " (corrupt record)");
        }
        if (dataStart + dataLen > extEnd || extEnd > limit) {
            throw new CheckpointException(file + ": tensor '" + name + "' is cut short (corrupt or truncated file)");
        }
        return new ArrayExt(h.getType(), new TensorInfo(name, dtype, shape), all.asSlice(dataStart, dataLen), extEnd);
    }

    /** flax's {@code {'__msgpack_chunked_array__': True, 'shape': {'0': ..}, 'chunks': {'0': ndarray, ..}}}. */
    private Record parseChunked(List<String> key, long blob, long end) throws IOException {
        String name = String.join(".", key);
        MessageUnpacker u = unpackerAt(blob, end);
        int entries = u.unpackMapHeader();
        long base = blob;
        long[] shape = null;
        List<MemorySegment> chunks = new ArrayList<>();
        DType dtype = null;
        boolean flagged = false;
        for (int e = 0; e < entries; e++) {
            String k = unpackText(u);
            switch (k) {
                case CHUNKED_FLAG -> flagged = u.unpackBoolean();
                case "shape" -> {
                    int n = u.unpackMapHeader();
                    shape = new long[n];
                    for (int i = 0; i < n; i++) {
                        int idx = Integer.parseInt(unpackText(u));
                        shape[idx] = u.unpackLong();
                    }
                }
                case "chunks" -> {
                    int n = u.unpackMapHeader();
                    for (int i = 0; i < n; i++) {
                        if (Integer.parseInt(unpackText(u)) != i) {
                            throw new IllegalStateException("chunks of '" + name + "' are out of order");
                        }
                        long at = base + u.getTotalReadBytes();
                        ArrayExt c = parseArrayExt(name, at, end);
                        dtype = c.info.dtype();
                        chunks.add(c.data);
                        base = c.end;
                        if (i < n - 1 || e < entries - 1) {
                            u = unpackerAt(base, end); // the chunk's bytes were skipped, not read
                        }
                    }
                }
                default -> throw new IllegalStateException("value of '" + name + "' is a map with key '" + k
                        + "', not a flax chunked array");
            }
        }
        if (!flagged || shape == null || dtype == null) {
            throw new IllegalStateException("value of '" + name + "' is a map but not a flax chunked array");
        }
        long total = chunks.stream().mapToLong(MemorySegment::byteSize).sum();
        if (total != HostTensor.numel(shape) * dtype.byteSize()) {
            throw new CheckpointException(file + ": chunked tensor '" + name + "' holds " + total
                    + " bytes, which does not fit " + dtype + java.util.Arrays.toString(shape));
        }
        return new Record(key, Kind.CHUNKED, new TensorInfo(name, dtype, shape), chunks, null);
    }

    private static String unpackText(MessageUnpacker u) throws IOException {
        if (u.getNextFormat().getValueType() == ValueType.BINARY) {
            int n = u.unpackBinaryHeader();
            return new String(u.readPayload(n), java.nio.charset.StandardCharsets.UTF_8);
        }
        return u.unpackString();
    }

    private MessageUnpacker unpackerAt(long pos) {
        return unpackerAt(pos, all.byteSize());
    }

    // Headers are small: a window of up to 64 KiB (bounded by the value's end) is enough, and the
    // unpacker never touches the tensor bytes after it, so indexing does not read the data.
    private MessageUnpacker unpackerAt(long pos, long limit) {
        long len = Math.min(limit - pos, 1 << 16);
        if (len <= 0) {
            throw new IllegalStateException("unexpected end of data");
        }
        return MessagePack.DEFAULT_UNPACKER_CONFIG.newUnpacker(new ByteBufferInput(all.asSlice(pos, len).asByteBuffer()));
    }

    /** Every record, tensors and plain values alike, in file order. */
    public List<Record> records() {
        return Collections.unmodifiableList(records);
    }

    /** The record named {@code name} (key joined with dots), or null. */
    public Record record(String name) {
        return byName.get(name);
    }

    @Override
    public List<TensorInfo> tensors() {
        return Collections.unmodifiableList(infos);
    }

    @Override
    public TensorInfo info(String name) {
        Record r = byName.get(name);
        return r == null ? null : r.info();
    }

    @Override
    public HostTensor read(String name, Arena target) {
        Record r = byName.get(name);
        if (r == null || r.info() == null) {
            throw new CheckpointException("tensor '" + name + "' is not in " + file);
        }
        if (r.chunks().size() == 1) {
            return new HostTensor(name, r.info().dtype(), r.info().shape(), r.chunks().getFirst());
        }
        MemorySegment out = target.allocate(r.info().byteSize(), 64);
        long at = 0;
        for (MemorySegment c : r.chunks()) {
            MemorySegment.copy(c, 0, out, at, c.byteSize());
            at += c.byteSize();
        }
        return new HostTensor(name, r.info().dtype(), r.info().shape(), out);
    }

    @Override
    public Path source() {
        return file;
    }

    @Override
    public void close() {
        arena.close();
    }
}
