package io.cohx.models.checkpoint;

import io.cohx.engine.DType;

import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Writes the original CoH/EasyLM streaming checkpoint format one record at a time, byte for
 * byte as the reference's {@code msgpack.Packer().pack((key, flax.serialization.to_bytes(x)))}
 * does (so the reference trainer loads it with {@code params::} / {@code trainstate::}). Float
 * tensors are cast to {@code floatDtype} when one is given (the reference's default is bf16).
 * Output goes to a temporary file that {@link #commit()} syncs and renames; closing without
 * commit deletes it.
 */
public final class StreamingWriter implements AutoCloseable {
    /** flax splits arrays larger than this into a chunked dict (msgpack's 2 GiB object limit). */
    static final long FLAX_MAX_CHUNK = 1L << 30;

    private final Path file;
    private final Path tmp;
    private final FileChannel ch;
    private final DType floatDtype;
    private final long maxChunk;
    private boolean committed;

    /** A writer of {@code file}; {@code floatDtype} null keeps float tensors as they are. */
    public StreamingWriter(Path file, DType floatDtype) {
        this(file, floatDtype, FLAX_MAX_CHUNK);
    }

    StreamingWriter(Path file, DType floatDtype, long maxChunk) {
        this.file = file;
        this.floatDtype = floatDtype;
        this.maxChunk = maxChunk;
        this.tmp = AtomicFiles.tempSibling(file);
        try {
            this.ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes tensor {@code t} under {@code key} as a flax ndarray (numpy scalar if {@code npScalar}). */
    public void write(List<String> key, HostTensor t, boolean npScalar) {
        try (Arena arena = Arena.ofConfined()) {
            HostTensor v = floatDtype != null && t.dtype().isFloating() ? TensorOps.cast(t, floatDtype, arena) : t;
            byte[] blobPrefix;
            long blobLen;
            if (v.byteSize() > maxChunk && !npScalar) {
                writeChunked(key, v);
                return;
            }
            byte[][] ext = arrayExtPrefix(v, npScalar ? StreamingReader.EXT_NPSCALAR : StreamingReader.EXT_NDARRAY);
            blobPrefix = concat(ext[0], ext[1]);
            blobLen = blobPrefix.length + v.byteSize();
            writeRecordHeader(key, blobLen);
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(blobPrefix));
            AtomicFiles.writeFully(ch, v.data());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes tensor {@code t} under {@code key} as a flax ndarray. */
    public void write(List<String> key, HostTensor t) {
        write(key, t, false);
    }

    /** Writes an already msgpack-encoded plain value (e.g. a Python int) under {@code key}. */
    public void writeRaw(List<String> key, byte[] encodedValue) {
        try {
            writeRecordHeader(key, encodedValue.length);
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(encodedValue));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private void writeRecordHeader(List<String> key, long blobLen) throws IOException {
        if (blobLen > 0xffffffffL) {
            throw new CheckpointException("record '" + String.join(".", key) + "' is too large for msgpack");
        }
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            p.packArrayHeader(2);
            p.packArrayHeader(key.size());
            for (String k : key) {
                p.packString(k);
            }
            p.packBinaryHeader((int) blobLen);
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(p.toByteArray()));
        }
    }

    /** {ext header, [shape, dtype, bin header]} for an array of {@code v}'s type and shape. */
    private static byte[][] arrayExtPrefix(HostTensor v, int extType) throws IOException {
        byte[] inner;
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            p.packArrayHeader(3);
            p.packArrayHeader(v.rank());
            for (long d : v.shape()) {
                p.packLong(d);
            }
            p.packString(DTypeNames.of(v.dtype()).numpy());
            p.packBinaryHeader((int) v.byteSize());
            inner = p.toByteArray();
        }
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            p.packExtensionTypeHeader((byte) extType, (int) (inner.length + v.byteSize()));
            return new byte[][] {p.toByteArray(), inner};
        }
    }

    /** Writes {@code t} in flax's chunked layout with chunks of at most {@code chunkBytes} (for tests of that layout). */
    void writeChunkedForTest(List<String> key, HostTensor t, long chunkBytes) {
        try {
            writeChunkedRecord(key, t, chunkBytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private void writeChunked(List<String> key, HostTensor v) throws IOException {
        writeChunkedRecord(key, v, maxChunk);
    }

    // flax's layout for big arrays: {'__msgpack_chunked_array__': True, 'shape': {'0': d0, ..},
    // 'chunks': {'0': ndarray(flat slice), ..}}, each chunk at most chunkBytes bytes.
    private void writeChunkedRecord(List<String> key, HostTensor v, long chunkBytes) throws IOException {
        long perChunk = Math.max(1, chunkBytes / v.dtype().byteSize());
        long n = v.numel();
        int nChunks = (int) ((n + perChunk - 1) / perChunk);
        byte[] head;
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            p.packMapHeader(3);
            p.packString(StreamingReader.CHUNKED_FLAG);
            p.packBoolean(true);
            p.packString("shape");
            long[] shape = v.shape();
            p.packMapHeader(shape.length);
            for (int i = 0; i < shape.length; i++) {
                p.packString(Integer.toString(i));
                p.packLong(shape[i]);
            }
            p.packString("chunks");
            p.packMapHeader(nChunks);
            head = p.toByteArray();
        }
        long total = head.length;
        byte[][] keys = new byte[nChunks][];
        byte[][][] prefixes = new byte[nChunks][][];
        HostTensor[] chunks = new HostTensor[nChunks];
        for (int c = 0; c < nChunks; c++) {
            long from = c * perChunk;
            long count = Math.min(perChunk, n - from);
            MemorySegment seg = v.data().asSlice(from * v.dtype().byteSize(), count * v.dtype().byteSize());
            chunks[c] = new HostTensor(v.name(), v.dtype(), new long[] {count}, seg);
            try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
                p.packString(Integer.toString(c));
                keys[c] = p.toByteArray();
            }
            prefixes[c] = arrayExtPrefix(chunks[c], StreamingReader.EXT_NDARRAY);
            total += keys[c].length + prefixes[c][0].length + prefixes[c][1].length + seg.byteSize();
        }
        writeRecordHeader(key, total);
        AtomicFiles.writeFully(ch, ByteBuffer.wrap(head));
        for (int c = 0; c < nChunks; c++) {
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(keys[c]));
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(concat(prefixes[c][0], prefixes[c][1])));
            AtomicFiles.writeFully(ch, chunks[c].data());
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Syncs the file and renames it into place. */
    public void commit() {
        try {
            ch.force(true);
            ch.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
        AtomicFiles.moveIntoPlace(tmp, file);
        committed = true;
    }

    /** Deletes the temporary file unless {@link #commit()} ran. */
    @Override
    public void close() {
        if (!committed) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // the file is deleted next anyway
            }
            AtomicFiles.deleteQuietly(tmp);
        }
    }
}
