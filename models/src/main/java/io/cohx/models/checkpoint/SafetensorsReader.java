package io.cohx.models.checkpoint;

import io.cohx.engine.DType;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads safetensors checkpoints by memory-mapping them: a single {@code .safetensors} file, a
 * sharded set through its {@code *.safetensors.index.json}, or a folder holding either. Tensors
 * are zero-copy views into the mapping, valid until {@link #close()}. The whole header is
 * validated on open (types, shapes, offsets within the file), so a truncated or corrupt file is
 * reported at once with the file and the first tensor that does not fit.
 */
public final class SafetensorsReader implements TensorReader {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    private record Entry(TensorInfo info, Path file, MemorySegment data) {}

    private final Path source;
    private final Arena arena = Arena.ofShared();
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<TensorInfo> infos = new ArrayList<>();

    private SafetensorsReader(Path source) {
        this.source = source;
    }

    /** Opens a {@code .safetensors} file, an {@code .index.json}, or a folder with one of them. */
    public static SafetensorsReader open(Path path) {
        var r = new SafetensorsReader(path);
        try {
            r.load(resolve(path));
            return r;
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
    }

    /** The file(s) a path stands for: the index if there is one, else the single safetensors file. */
    static Path resolve(Path path) {
        if (!Files.isDirectory(path)) {
            if (!Files.isRegularFile(path)) {
                throw new CheckpointException("no safetensors checkpoint at " + path + " (not a file or folder)");
            }
            return path;
        }
        try (Stream<Path> s = Files.list(path)) {
            List<Path> files = s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
            List<Path> idx = files.stream().filter(p -> p.getFileName().toString().endsWith(".safetensors.index.json")).toList();
            if (idx.size() == 1) {
                return idx.getFirst();
            }
            if (idx.size() > 1) {
                throw new CheckpointException("folder " + path + " has several safetensors indexes " + idx
                        + "; pass the one to read");
            }
            List<Path> st = files.stream().filter(p -> p.getFileName().toString().endsWith(".safetensors")).toList();
            if (st.size() == 1) {
                return st.getFirst();
            }
            Path model = path.resolve("model.safetensors");
            if (st.contains(model)) {
                return model; // Hugging Face's name for single-file weights; other files are not weights
            }
            throw new CheckpointException(st.isEmpty()
                    ? "folder " + path + " has no .safetensors file"
                    : "folder " + path + " has " + st.size() + " .safetensors files but no *.safetensors.index.json"
                            + " saying which tensor is where; pass one file or add the index");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + path + ": " + e.getMessage(), e);
        }
    }

    private void load(Path file) {
        if (file.getFileName().toString().endsWith(".json")) {
            loadIndex(file);
        } else {
            loadFile(file, null);
        }
    }

    private void loadIndex(Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new CheckpointException("cannot read safetensors index " + index + ": " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CheckpointException("safetensors index " + index + " has no \"weight_map\" object");
        }
        Map<String, List<String>> byFile = new LinkedHashMap<>();
        for (var it = map.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isTextual()) {
                throw new CheckpointException("safetensors index " + index + ": weight_map entry '" + e.getKey()
                        + "' is not a file name");
            }
            byFile.computeIfAbsent(e.getValue().asText(), k -> new ArrayList<>()).add(e.getKey());
        }
        for (var e : byFile.entrySet()) {
            Path f = index.resolveSibling(e.getKey());
            if (!Files.isRegularFile(f)) {
                throw new CheckpointException("safetensors index " + index + " names " + e.getKey()
                        + " (for tensor '" + e.getValue().getFirst() + "'), which does not exist");
            }
            loadFile(f, e.getValue());
        }
        if (root.has("metadata") && root.get("metadata").isObject()) {
            root.get("metadata").properties().forEach(e -> metadata.putIfAbsent(e.getKey(), e.getValue().asText()));
        }
    }

    private void loadFile(Path file, List<String> expected) {
        MemorySegment all;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        long size = all.byteSize();
        if (size < 8) {
            throw new CheckpointException(file + " is not a safetensors file: only " + size + " bytes (truncated?)");
        }
        long n = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (n <= 0 || n > MAX_HEADER || n > size - 8) {
            throw new CheckpointException(file + " is not a valid safetensors file: header length " + n
                    + " does not fit a file of " + size + " bytes (truncated or not safetensors)");
        }
        byte[] hb = all.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        JsonNode header;
        try {
            header = JSON.readTree(new String(hb, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file + " has a corrupt safetensors header: " + e.getOriginalMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new CheckpointException(file + " has a corrupt safetensors header: not a JSON object");
        }
        long dataStart = 8 + n;
        long dataSize = size - dataStart;
        List<Entry> fileEntries = new ArrayList<>();
        for (var it = header.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            String name = e.getKey();
            if (name.equals("__metadata__")) {
                e.getValue().properties().forEach(m -> metadata.putIfAbsent(m.getKey(), m.getValue().asText()));
                continue;
            }
            fileEntries.add(entry(file, name, e.getValue(), all, dataStart, dataSize));
        }
        fileEntries.sort(Comparator.comparingLong(en -> en.data().address()));
        for (Entry en : fileEntries) {
            if (entries.putIfAbsent(en.info().name(), en) != null) {
                throw new CheckpointException("tensor '" + en.info().name() + "' appears twice (again in " + file + ")");
            }
            infos.add(en.info());
        }
        if (expected != null) {
            for (String name : expected) {
                Entry en = entries.get(name);
                if (en == null || !en.file().equals(file)) {
                    throw new CheckpointException("the index says tensor '" + name + "' is in " + file
                            + ", but that file does not have it");
                }
            }
        }
    }

    private static Entry entry(Path file, String name, JsonNode v, MemorySegment all, long dataStart, long dataSize) {
        String where = file + ", tensor '" + name + "'";
        if (!v.isObject() || !v.has("dtype") || !v.has("shape") || !v.has("data_offsets")) {
            throw new CheckpointException(where + ": header entry needs dtype, shape and data_offsets");
        }
        DType dtype = DTypeNames.fromSafetensors(v.get("dtype").asText());
        if (dtype == null) {
            throw new CheckpointException(where + ": unsupported dtype " + v.get("dtype").asText()
                    + " (cohx reads F32, BF16, F16, F64, I32, I64, U8, BOOL)");
        }
        JsonNode sh = v.get("shape");
        JsonNode off = v.get("data_offsets");
        if (!sh.isArray() || !off.isArray() || off.size() != 2) {
            throw new CheckpointException(where + ": malformed shape or data_offsets");
        }
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!sh.get(i).canConvertToLong() || sh.get(i).asLong() < 0) {
                throw new CheckpointException(where + ": malformed shape " + sh);
            }
            shape[i] = sh.get(i).asLong();
        }
        long begin = off.get(0).asLong();
        long end = off.get(1).asLong();
        long need;
        try {
            need = HostTensor.numel(shape) * dtype.byteSize();
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + ": shape " + sh + " is too large");
        }
        if (begin < 0 || end < begin || end - begin != need) {
            throw new CheckpointException(where + ": data_offsets [" + begin + ", " + end + "] do not hold "
                    + dtype + sh + " (" + need + " bytes); the header is corrupt");
        }
        if (end > dataSize) {
            throw new CheckpointException(where + ": its data ends at byte " + end + " of the data section, but the"
                    + " file has only " + dataSize + " data bytes; the file is truncated (download or copy it again)");
        }
        var info = new TensorInfo(name, dtype, shape);
        return new Entry(info, file, all.asSlice(dataStart + begin, need));
    }

    @Override
    public List<TensorInfo> tensors() {
        return Collections.unmodifiableList(infos);
    }

    @Override
    public TensorInfo info(String name) {
        Entry e = entries.get(name);
        return e == null ? null : e.info();
    }

    @Override
    public HostTensor read(String name, Arena unused) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new CheckpointException("tensor '" + name + "' is not in " + source);
        }
        return new HostTensor(name, e.info().dtype(), e.info().shape(), e.data());
    }

    /** The {@code __metadata__} of the file(s) and the index's {@code metadata}. */
    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    @Override
    public Path source() {
        return source;
    }

    @Override
    public void close() {
        arena.close();
    }
}
