package io.cohx.models.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.engine.DType;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.testdata.TestModels;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every tensor of the real SmolLM2-135M-Instruct Q4_1 file (Q4_1, Q8_0 and F32 tensors),
 * dequantized by cohx, hashes to what {@code gguf.quants.dequantize} gives
 * (tools/reference/gguf_reference.py hashes; golden committed in resources/gguf).
 */
class SmolLm2DequantTest {

    @Test
    void everyTensorDequantizesBitForBitLikeTheReference() throws Exception {
        JsonNode golden = new ObjectMapper().readTree(GgufReaderTest.resource("smollm2-135m-instruct-q4_1.hashes.json").toFile())
                .get("tensors");
        var types = new TreeMap<String, Integer>();
        List<String> wrong = new ArrayList<>();
        try (GgufReader r = GgufReader.open(TestModels.smolLm2())) {
            assertEquals(golden.size(), r.directory().size());
            for (GgufReader.Tensor t : r.directory()) {
                JsonNode g = golden.get(t.name());
                assertEquals(g.get("type").asText(), t.type().name(), t.name());
                assertArrayEquals(new ObjectMapper().convertValue(g.get("shape"), long[].class), t.shape(), t.name());
                try (Arena arena = Arena.ofConfined()) {
                    HostTensor h = r.read(t.name(), DType.F32, arena);
                    if (!sha256(h.data()).equals(g.get("sha256").asText())) {
                        wrong.add(t.name() + " (" + t.type() + ")");
                    }
                }
                types.merge(t.type().name(), 1, Integer::sum);
            }
        }
        assertEquals(List.of(), wrong, "tensors whose dequantized values differ from gguf.quants.dequantize");
        assertEquals("{F32=61, Q4_1=210, Q8_0=1}", types.toString());
    }

    static String sha256(MemorySegment data) throws Exception {
        var md = MessageDigest.getInstance("SHA-256");
        long chunk = 1 << 24;
        for (long off = 0; off < data.byteSize(); off += chunk) {
            md.update(data.asSlice(off, Math.min(chunk, data.byteSize() - off)).asByteBuffer());
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
