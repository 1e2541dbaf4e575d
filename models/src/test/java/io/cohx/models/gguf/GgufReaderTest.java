package io.cohx.models.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.engine.DType;
import io.cohx.engine.HalfFloats;
import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.checkpoint.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GGUF reader against files written by the {@code gguf} Python package
 * (tools/reference/gguf_reference.py fixtures): metadata of every value type, and every tensor type
 * dequantized bit for bit as {@code gguf.quants.dequantize} does; plus the writer's F16, BF16 and
 * Q8_0 encoders byte for byte against gguf's own quantizers, and corrupt files.
 */
class GgufReaderTest {
    static Path resource(String name) {
        try {
            return Path.of(GgufReaderTest.class.getResource("/gguf/" + name).toURI());
        } catch (Exception e) {
            throw new IllegalStateException("test resource gguf/" + name + " missing", e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"types.gguf", "types-v2.gguf"})
    void metadataOfEveryTypeReadsAsWritten(String file) throws IOException {
        JsonNode expected = new ObjectMapper().readTree(resource("types-expected.json").toFile());
        try (GgufReader r = GgufReader.open(resource(file))) {
            assertEquals(file.contains("v2") ? 2 : 3, r.version());
            assertEquals(32, r.alignment());
            var keys = new ArrayList<String>();
            expected.get("metadata").fieldNames().forEachRemaining(keys::add);
            assertEquals(keys, new ArrayList<>(r.metadata().keySet()));
            for (String key : keys) {
                JsonNode e = expected.get("metadata").get(key);
                GgufValue v = r.get(key);
                assertEquals(e.get("type").asText(), v.type().name(), key);
                if (!e.get("element_type").isNull()) {
                    assertEquals(e.get("element_type").asText(), v.elementType().name(), key);
                }
                assertEquals(render(e.get("value")), render(v), key);
            }
        }
    }

    /** A comparable text form of a JSON value and of a GGUF value. */
    private static String render(JsonNode n) {
        if (n.isArray()) {
            var parts = new ArrayList<String>();
            n.forEach(x -> parts.add(render(x)));
            return parts.toString();
        }
        if (n.isFloatingPointNumber()) {
            return Double.toString(n.asDouble());
        }
        return n.isTextual() ? n.asText() : n.toString();
    }

    private static String render(GgufValue v) {
        Object o = v.value();
        return switch (o) {
            case int[] a -> Arrays.stream(a).mapToObj(Integer::toString).toList().toString();
            case long[] a -> Arrays.stream(a).mapToObj(x -> v.elementType() == GgufValue.Type.UINT64 ? Long.toUnsignedString(x)
                    : Long.toString(x)).toList().toString();
            case float[] a -> {
                var l = new ArrayList<String>();
                for (float x : a) {
                    l.add(Double.toString(x));
                }
                yield l.toString();
            }
            case double[] a -> Arrays.stream(a).mapToObj(Double::toString).toList().toString();
            case boolean[] a -> {
                var l = new ArrayList<String>();
                for (boolean x : a) {
                    l.add(Boolean.toString(x));
                }
                yield l.toString();
            }
            case List<?> l -> l.stream().map(x -> x instanceof GgufValue g ? render(g) : x.toString()).toList().toString();
            case Float f -> Double.toString(f);
            case Long l when v.type() == GgufValue.Type.UINT64 -> Long.toUnsignedString(l);
            default -> o.toString();
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"types.gguf", "types-v2.gguf"})
    void everyTensorTypeDequantizesBitForBitLikeTheReference(String file) throws IOException {
        JsonNode expected = new ObjectMapper().readTree(resource("types-expected.json").toFile());
        var seen = new java.util.TreeSet<String>();
        try (GgufReader r = GgufReader.open(resource(file));
             GgufReader want = GgufReader.open(resource("types-expected.gguf"));
             Arena arena = Arena.ofConfined()) {
            for (JsonNode t : expected.get("tensors")) {
                String name = t.get("name").asText();
                GgufReader.Tensor info = r.tensor(name);
                assertEquals(t.get("type").asText(), info.type().name(), name);
                long[] shape = new ObjectMapper().convertValue(t.get("shape"), long[].class);
                assertArrayEquals(shape, info.shape(), name);
                HostTensor got = r.read(name, DType.F32, arena);
                HostTensor ref = want.read(name, DType.F32, arena);
                assertArrayEquals(shape, got.shape(), name);
                long mismatch = got.data().mismatch(ref.data());
                assertEquals(-1, mismatch, () -> name + ": first differing byte " + mismatch + " (value "
                        + got.getDouble(mismatch / 4) + " vs reference " + ref.getDouble(mismatch / 4) + ")");
                HostTensor bf16 = r.read(name, DType.BF16, arena);
                for (long i = 0; i < got.numel(); i++) {
                    short b = bf16.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i);
                    assertEquals(HalfFloats.toBf16((float) ref.getDouble(i)), b, name + "[" + i + "] as bf16");
                }
                seen.add(info.type().name());
            }
        }
        var all = new java.util.TreeSet<String>();
        GgmlType.readableTypes().forEach(t -> all.add(t.name()));
        assertEquals(all, seen, "the fixture holds a tensor of every type cohx reads");
    }

    @ParameterizedTest
    @ValueSource(strings = {"t.f16", "t.bf16", "t.q8_0"})
    void encodersGiveTheReferenceQuantizersBytes(String name) {
        try (GgufReader r = GgufReader.open(resource("types.gguf"));
             GgufReader src = GgufReader.open(resource("types-expected.gguf"));
             Arena arena = Arena.ofConfined()) {
            GgufReader.Tensor t = r.tensor(name);
            HostTensor source = src.read("source." + name, DType.F32, arena);
            MemorySegment ours = GgufWriter.encode(source, t.type(), arena);
            MemorySegment theirs = r.raw(t);
            assertEquals(theirs.byteSize(), ours.byteSize());
            assertEquals(-1, ours.mismatch(theirs), name + ": encoded bytes differ at " + ours.mismatch(theirs));
        }
    }

    @Test
    void roundHalfAwayMatchesRoundf() {
        assertEquals(1, GgufWriter.roundHalfAway(0.5f));
        assertEquals(-1, GgufWriter.roundHalfAway(-0.5f));
        assertEquals(2, GgufWriter.roundHalfAway(1.5f));
        assertEquals(3, GgufWriter.roundHalfAway(2.5f));
        assertEquals(0, GgufWriter.roundHalfAway(0.49999997f));
        assertEquals(-127, GgufWriter.roundHalfAway(-127.0f));
    }

    // ---- bad input ----

    private static byte[] bytes(String name) throws IOException {
        return Files.readAllBytes(resource(name));
    }

    private static String openError(Path dir, byte[] data) throws IOException {
        Path p = dir.resolve("bad.gguf");
        Files.write(p, data);
        var e = assertThrows(CheckpointException.class, () -> GgufReader.open(p).close());
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        return e.getMessage();
    }

    @Test
    void truncatedFilesNameWhatIsMissing(@TempDir Path dir) throws IOException {
        byte[] all = bytes("types.gguf");
        String header = openError(dir, Arrays.copyOf(all, 100));
        assertTrue(header.contains("truncated") && header.contains("metadata key"), header);
        String data = openError(dir, Arrays.copyOf(all, all.length - 10));
        assertTrue(data.contains("truncated") && data.contains("tensor 't.q8_k'"), data);
        String empty = openError(dir, new byte[3]);
        assertTrue(empty.contains("truncated"), empty);
    }

    @Test
    void badMagicAndVersionsAreRefusedByName(@TempDir Path dir) throws IOException {
        byte[] all = bytes("types.gguf");
        byte[] magic = all.clone();
        magic[0] = 'X';
        assertTrue(openError(dir, magic).contains("not a GGUF file"));
        byte[] v1 = all.clone();
        ByteBuffer.wrap(v1).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 1);
        assertTrue(openError(dir, v1).contains("version 1"));
        byte[] v9 = all.clone();
        ByteBuffer.wrap(v9).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 9);
        assertTrue(openError(dir, v9).contains("versions 2 and 3"));
        byte[] big = all.clone();
        ByteBuffer.wrap(big).order(ByteOrder.BIG_ENDIAN).putInt(4, 3);
        assertTrue(openError(dir, big).contains("big-endian"));
    }

    @Test
    void unknownAndUnreadableTensorTypesNameTheTensor(@TempDir Path dir) throws IOException {
        byte[] all = bytes("types.gguf");
        int at = typeFieldOf(all, "t.q4_0");
        byte[] unknown = all.clone();
        ByteBuffer.wrap(unknown).order(ByteOrder.LITTLE_ENDIAN).putInt(at, 77);
        String msg = openError(dir, unknown);
        assertTrue(msg.contains("tensor 't.q4_0'") && msg.contains("unknown tensor type 77") && msg.contains("Q4_K"), msg);

        // A type ggml knows but cohx does not dequantize (IQ4_NL has Q4_0's block and size): listed, read refused.
        byte[] iq = all.clone();
        ByteBuffer.wrap(iq).order(ByteOrder.LITTLE_ENDIAN).putInt(at, GgmlType.IQ4_NL.id());
        Path p = dir.resolve("iq.gguf");
        Files.write(p, iq);
        try (GgufReader r = GgufReader.open(p); Arena arena = Arena.ofConfined()) {
            assertEquals(GgmlType.IQ4_NL, r.tensor("t.q4_0").type());
            var e = assertThrows(CheckpointException.class, () -> r.read("t.q4_0", arena));
            assertTrue(e.getMessage().contains("IQ4_NL") && e.getMessage().contains("t.q4_0")
                    && e.getMessage().contains("Q8_0"), e.getMessage());
        }
    }

    @Test
    void unknownValueTypeNamesTheKey(@TempDir Path dir) throws IOException {
        byte[] all = bytes("types.gguf");
        byte[] key = "test.u8".getBytes();
        int at = indexOf(all, key) + key.length;
        byte[] bad = all.clone();
        ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putInt(at, 42);
        String msg = openError(dir, bad);
        assertTrue(msg.contains("metadata key 'test.u8'") && msg.contains("unknown value type 42"), msg);
    }

    /** Byte offset of the type field of tensor {@code name}'s directory entry. */
    static int typeFieldOf(byte[] file, String name) {
        byte[] n = name.getBytes();
        byte[] withLen = ByteBuffer.allocate(8 + n.length).order(ByteOrder.LITTLE_ENDIAN).putLong(n.length).put(n).array();
        int at = indexOf(file, withLen) + withLen.length;
        int dims = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getInt(at);
        return at + 4 + 8 * dims;
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalStateException("not found");
    }

    @Test
    void typeTableMatchesTheFormat() {
        // Block and type sizes as ggml defines them (GGML_QUANT_SIZES), for the readable types.
        Map<GgmlType, int[]> sizes = Map.of(GgmlType.Q4_0, new int[] {32, 18}, GgmlType.Q4_1, new int[] {32, 20},
                GgmlType.Q5_0, new int[] {32, 22}, GgmlType.Q5_1, new int[] {32, 24}, GgmlType.Q8_0, new int[] {32, 34},
                GgmlType.Q4_K, new int[] {256, 144}, GgmlType.Q5_K, new int[] {256, 176}, GgmlType.Q6_K, new int[] {256, 210},
                GgmlType.Q8_K, new int[] {256, 292}, GgmlType.BF16, new int[] {1, 2});
        sizes.forEach((t, s) -> assertArrayEquals(s, new int[] {t.blockSize(), t.typeSize()}, t.name()));
    }
}
