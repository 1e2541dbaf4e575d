package io.cohx.models.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes safetensors files tensor by tensor: the header (u64 little-endian length, then JSON
 * padded with spaces to a multiple of 8 bytes) goes first, then each tensor's bytes in the order
 * given. Only one tensor is in memory at a time. Each file is written under a temporary name,
 * synced and renamed. {@link #writeSharded} splits a model into numbered files with a
 * {@code *.safetensors.index.json} when it exceeds a size limit, as Hugging Face does.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {}

    /** Writes one file with {@code tensors} in that order; {@code metadata} becomes {@code __metadata__}. */
    public static void write(Path file, List<TensorInfo> tensors, Map<String, String> metadata,
                             TensorSource source, WriteProgress progress) {
        write(file, tensors, metadata, source, progress, 0, tensors.size());
    }

    private static void write(Path file, List<TensorInfo> tensors, Map<String, String> metadata,
                              TensorSource source, WriteProgress progress, int doneBefore, int total) {
        byte[] header = header(tensors, metadata);
        Path tmp = AtomicFiles.tempSibling(file);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            AtomicFiles.writeFully(ch, len);
            AtomicFiles.writeFully(ch, ByteBuffer.wrap(header));
            int i = doneBefore;
            for (TensorInfo info : tensors) {
                try (Arena arena = Arena.ofConfined()) {
                    HostTensor t = source.get(info, arena);
                    if (t.dtype() != info.dtype() || !Arrays.equals(t.shape(), info.shape())) {
                        throw new CheckpointException("writing " + file + ": tensor '" + info.name() + "' was announced as "
                                + info.dtype() + Arrays.toString(info.shape()) + " but is " + t.dtype()
                                + Arrays.toString(t.shape()));
                    }
                    AtomicFiles.writeFully(ch, t.data());
                }
                progress.tensorWritten(++i, total, info);
            }
            ch.force(true);
        } catch (IOException e) {
            AtomicFiles.deleteQuietly(tmp);
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            AtomicFiles.deleteQuietly(tmp);
            throw e;
        }
        AtomicFiles.moveIntoPlace(tmp, file);
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes so tensor data stays aligned. */
    static byte[] header(List<TensorInfo> tensors, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (TensorInfo t : tensors) {
            if (root.has(t.name())) {
                throw new CheckpointException("tensor '" + t.name() + "' is listed twice");
            }
            ObjectNode e = root.putObject(t.name());
            e.put("dtype", DTypeNames.of(t.dtype()).safetensors());
            ArrayNode shape = e.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            ArrayNode off = e.putArray("data_offsets");
            off.add(offset);
            offset += t.byteSize();
            off.add(offset);
        }
        byte[] json;
        try {
            json = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /**
     * Writes {@code tensors} into folder {@code dir} as {@code BASE.safetensors}, or, when their
     * total size exceeds {@code maxShardBytes}, as {@code BASE-00001-of-0000N.safetensors} plus
     * {@code BASE.safetensors.index.json}. A tensor larger than the limit gets a shard of its own.
     * Returns the files written (index last).
     */
    public static List<Path> writeSharded(Path dir, String base, List<TensorInfo> tensors, Map<String, String> metadata,
                                          long maxShardBytes, TensorSource source, WriteProgress progress) {
        List<List<TensorInfo>> shards = new ArrayList<>();
        List<TensorInfo> cur = new ArrayList<>();
        long curBytes = 0;
        long total = 0;
        for (TensorInfo t : tensors) {
            if (!cur.isEmpty() && curBytes + t.byteSize() > maxShardBytes) {
                shards.add(cur);
                cur = new ArrayList<>();
                curBytes = 0;
            }
            cur.add(t);
            curBytes += t.byteSize();
            total += t.byteSize();
        }
        shards.add(cur);
        List<Path> written = new ArrayList<>();
        if (shards.size() == 1) {
            Path f = dir.resolve(base + ".safetensors");
            write(f, tensors, metadata, source, progress);
            written.add(f);
            return written;
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        int done = 0;
        for (int s = 0; s < shards.size(); s++) {
            String name = String.format("%s-%05d-of-%05d.safetensors", base, s + 1, shards.size());
            Path f = dir.resolve(name);
            write(f, shards.get(s), metadata, source, progress, done, tensors.size());
            done += shards.get(s).size();
            shards.get(s).forEach(t -> weightMap.put(t.name(), name));
            written.add(f);
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode wm = index.putObject("weight_map");
        weightMap.forEach(wm::put);
        Path idx = dir.resolve(base + ".safetensors.index.json");
        try {
            AtomicFiles.writeString(idx, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        written.add(idx);
        return written;
    }
}
