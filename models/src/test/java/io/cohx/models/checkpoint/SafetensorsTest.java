package io.cohx.models.checkpoint;

import io.cohx.engine.DType;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsTest {

    private static List<HostTensor> sample(Arena a) {
        var rnd = new SplittableRandom(3);
        List<HostTensor> l = new ArrayList<>();
        long[][] shapes = {{3, 5}, {7}, {2, 3, 4}, {}, {1, 9}};
        DType[] types = {DType.F32, DType.BF16, DType.F16, DType.S64, DType.U8};
        for (int i = 0; i < shapes.length; i++) {
            HostTensor t = HostTensor.allocate("t" + i + ".w", types[i], shapes[i], a);
            for (long b = 0; b < t.byteSize(); b++) {
                t.data().set(java.lang.foreign.ValueLayout.JAVA_BYTE, b, (byte) rnd.nextInt());
            }
            l.add(t);
        }
        return l;
    }

    private static Map<String, HostTensor> byName(List<HostTensor> l) {
        var m = new java.util.LinkedHashMap<String, HostTensor>();
        l.forEach(t -> m.put(t.name(), t));
        return m;
    }

    @Test
    void aFolderWithModelSafetensorsAndOtherFilesReadsTheModel(@TempDir Path dir) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            var tensors = sample(a);
            var infos = tensors.stream().map(TensorInfo::of).toList();
            var m = byName(tensors);
            SafetensorsWriter.write(dir.resolve("model.safetensors"), infos, Map.of("format", "pt"), (info, ar) -> m.get(info.name()),
                    WriteProgress.NONE);
            SafetensorsWriter.write(dir.resolve("extra.safetensors"), infos.subList(0, 1), Map.of(), (info, ar) -> m.get(info.name()),
                    WriteProgress.NONE);
            assertEquals(dir.resolve("model.safetensors"), SafetensorsReader.resolve(dir));
            Files.delete(dir.resolve("model.safetensors"));
            Files.copy(dir.resolve("extra.safetensors"), dir.resolve("other.safetensors"));
            var e = assertThrows(CheckpointException.class, () -> SafetensorsReader.resolve(dir));
            assertTrue(e.getMessage().contains("2 .safetensors files but no"), e.getMessage());
        }
    }

    @Test
    void roundTripIsBitExactWithAlignedHeader(@TempDir Path dir) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            var tensors = sample(a);
            var m = byName(tensors);
            Path f = dir.resolve("x.safetensors");
            SafetensorsWriter.write(f, tensors.stream().map(TensorInfo::of).toList(), Map.of("format", "pt"),
                    (info, ar) -> m.get(info.name()), WriteProgress.NONE);
            byte[] bytes = Files.readAllBytes(f);
            long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            assertEquals(0, n % 8, "header length is a multiple of 8");
            var header = new ObjectMapper().readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
            assertEquals("pt", header.get("__metadata__").get("format").asText());
            assertEquals("BF16", header.get("t1.w").get("dtype").asText());
            try (var r = SafetensorsReader.open(f)) {
                assertEquals(tensors.stream().map(HostTensor::name).toList(), r.tensors().stream().map(TensorInfo::name).toList());
                for (HostTensor t : tensors) {
                    assertTrue(r.read(t.name(), a).contentEquals(t), t.name());
                }
                assertEquals("pt", r.metadata().get("format"));
            }
            assertEquals(List.of("x.safetensors"), listNames(dir), "no temp file left behind");
        }
    }

    private static List<String> listNames(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void shardedWriteHasIndexAndReadsBack(@TempDir Path dir) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            var tensors = sample(a);
            var m = byName(tensors);
            List<Path> files = SafetensorsWriter.writeSharded(dir, "model", tensors.stream().map(TensorInfo::of).toList(),
                    Map.of(), 64, (info, ar) -> m.get(info.name()), WriteProgress.NONE);
            assertTrue(files.size() > 2, "split into several shards: " + files);
            assertTrue(Files.exists(dir.resolve("model.safetensors.index.json")));
            assertTrue(Files.exists(dir.resolve("model-00001-of-0000" + (files.size() - 1) + ".safetensors")));
            var idx = new ObjectMapper().readTree(dir.resolve("model.safetensors.index.json").toFile());
            assertEquals(tensors.stream().mapToLong(HostTensor::byteSize).sum(), idx.get("metadata").get("total_size").asLong());
            try (var r = SafetensorsReader.open(dir)) {
                assertEquals(tensors.size(), r.tensors().size());
                for (HostTensor t : tensors) {
                    assertTrue(r.read(t.name(), a).contentEquals(t), t.name());
                }
            }
        }
    }

    @Test
    void truncatedFileNamesFileAndTensor(@TempDir Path dir) throws IOException {
        Path src = Fixtures.path("llama-hf/model.safetensors");
        Path f = dir.resolve("cut.safetensors");
        byte[] all = Files.readAllBytes(src);
        Files.write(f, java.util.Arrays.copyOf(all, all.length - 100));
        var e = assertThrows(CheckpointException.class, () -> SafetensorsReader.open(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(e.getMessage().matches("(?s).*tensor '[a-z_.0-9]+'.*"), e.getMessage());
    }

    @Test
    void corruptHeaderIsReported(@TempDir Path dir) throws IOException {
        byte[] all = Files.readAllBytes(Fixtures.path("llama-hf/model.safetensors"));
        all[12] = '#';
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, all);
        var e = assertThrows(CheckpointException.class, () -> SafetensorsReader.open(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("header"), e.getMessage());
        Files.write(f, new byte[] {1, 2, 3});
        assertThrows(CheckpointException.class, () -> SafetensorsReader.open(f));
    }

    @Test
    void readsFileWrittenByPythonSafetensors() {
        try (var r = SafetensorsReader.open(Fixtures.path("llama-hf")); Arena a = Arena.ofConfined()) {
            HostTensor emb = r.read("model.embed_tokens.weight", a);
            assertEquals(DType.F32, emb.dtype());
            assertEquals(List.of(64L, 16L), java.util.Arrays.stream(emb.shape()).boxed().toList());
            for (float v : emb.toFloats()) {
                assertTrue(Math.abs(v) < 0.125f && Math.rint(v * 1024) == v * 1024, "fixture values are k/1024");
            }
        }
    }
}
