package io.cohx.models.checkpoint;

import io.cohx.engine.DType;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StreamingTest {

    @Test
    void readsPythonParamsAsBf16OfTheExpectedWeights() {
        try (var s = StreamingReader.open(Fixtures.path("llama-streaming_params"));
             var exp = SafetensorsReader.open(Fixtures.path("llama-expected.safetensors"));
             Arena a = Arena.ofConfined()) {
            assertEquals(exp.tensors().stream().map(TensorInfo::name).sorted().toList(),
                    s.tensors().stream().map(TensorInfo::name).sorted().toList());
            assertEquals("transformer.wte.embedding", s.tensors().getFirst().name(), "file order is kept");
            for (TensorInfo info : exp.tensors()) {
                HostTensor t = s.read(info.name(), a);
                assertEquals(DType.BF16, t.dtype());
                assertTrue(TensorOps.cast(t, DType.F32, a).contentEquals(exp.read(info.name(), a)), info.name());
            }
        }
    }

    /** Writing the records back in order reproduces the Python file byte for byte. */
    private static void rewrite(Path src, Path dst) {
        try (var s = StreamingReader.open(src); var w = new StreamingWriter(dst, null); Arena a = Arena.ofConfined()) {
            for (var rec : s.records()) {
                switch (rec.kind()) {
                    case NDARRAY -> w.write(rec.key(), s.read(rec.name(), a));
                    case NPSCALAR -> w.write(rec.key(), s.read(rec.name(), a), true);
                    case NATIVE -> w.writeRaw(rec.key(), rec.raw());
                    case CHUNKED -> w.writeChunkedForTest(rec.key(), s.read(rec.name(), a), rec.chunks().getFirst().byteSize());
                }
            }
            w.commit();
        }
    }

    @Test
    void roundTripIsByteIdenticalToFlaxEncoding(@TempDir Path dir) throws IOException {
        for (String name : List.of("llama-streaming_params", "gptj-streaming_params", "llama-streaming_train_state")) {
            Path out = dir.resolve(name);
            rewrite(Fixtures.path(name), out);
            assertArrayEquals(Files.readAllBytes(Fixtures.path(name)), Files.readAllBytes(out), name);
        }
    }

    @Test
    void trainStateRecordsKeepTheirKinds() {
        try (var s = StreamingReader.open(Fixtures.path("llama-streaming_train_state")); Arena a = Arena.ofConfined()) {
            HostTensor step = s.read("step", a);
            assertEquals(DType.S32, step.dtype());
            assertEquals(0, step.rank());
            assertEquals(7.0, step.getDouble(0));
            assertEquals(StreamingReader.Kind.NATIVE, s.record("opt_state.2").kind());
            assertArrayEquals(new byte[] {(byte) 0xc0}, s.record("opt_state.2").raw(), "a None leaf");
            var big = s.record("opt_state.3.big");
            assertEquals(StreamingReader.Kind.CHUNKED, big.kind());
            assertEquals(3, big.chunks().size());
            HostTensor t = s.read("opt_state.3.big", a);
            assertArrayEquals(new long[] {4, 6}, t.shape());
            assertEquals(DType.F32, s.read("opt_state.1.0.mu.lm_head.kernel", a).dtype());
            assertTrue(s.info("params.params.lm_head.kernel") != null);
        }
    }

    @Test
    void castsFloatsOnWriteAndLeavesIntegers(@TempDir Path dir) {
        Path out = dir.resolve("p");
        try (Arena a = Arena.ofConfined()) {
            try (var w = new StreamingWriter(out, DType.BF16)) {
                w.write(List.of("a", "w"), HostTensor.ofFloats("w", new long[] {3}, 1f, 2.5f, -0.125f));
                var i = HostTensor.allocate("s", DType.S32, new long[] {}, a);
                i.data().set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 0, 42);
                w.write(List.of("step"), i);
                w.commit();
            }
            try (var s = StreamingReader.open(out)) {
                assertEquals(DType.BF16, s.info("a.w").dtype());
                assertArrayEquals(new float[] {1f, 2.5f, -0.125f}, s.read("a.w", a).toFloats());
                assertEquals(42.0, s.read("step", a).getDouble(0));
            }
        }
    }

    @Test
    void truncatedFileNamesFileAndTensor(@TempDir Path dir) throws IOException {
        byte[] all = Files.readAllBytes(Fixtures.path("llama-streaming_params"));
        Path f = dir.resolve("cut");
        Files.write(f, Arrays.copyOf(all, all.length - 50));
        var e = assertThrows(CheckpointException.class, () -> StreamingReader.open(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("'lm_head.kernel'"), e.getMessage());
    }

    @Test
    void garbageIsReportedAsCorrupt(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("junk");
        Files.write(f, "not msgpack at all, just text".getBytes());
        var e = assertThrows(CheckpointException.class, () -> StreamingReader.open(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("corrupt"), e.getMessage());
    }
}
