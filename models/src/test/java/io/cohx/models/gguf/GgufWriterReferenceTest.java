package io.cohx.models.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.engine.DType;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.WriteProgress;
import io.cohx.models.convert.Conversions;
import io.cohx.models.convert.GgufLlama;
import io.cohx.models.testdata.GgufReference;
import io.cohx.models.tokenizer.Vocabulary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * cohx → GGUF read back by the reference reader ({@code gguf.GGUFReader} and
 * {@code gguf.quants.dequantize}, through tools/reference/gguf_reference.py dump): the F32 export
 * holds exactly the tensors, the Q8_0 export dequantizes there to what cohx's reader gives
 * (and GgufModelTest bounds that by Q8_0's step), and the metadata llama.cpp reads (config keys,
 * vocabulary, chat template) is there with GGUF's types.
 */
class GgufWriterReferenceTest {

    @Test
    void theReferenceReaderReadsWhatCohxWrites(@TempDir Path dir) throws Exception {
        Path ck = dir.resolve("ck");
        Conversions.ggufToCohx(GgufModelTest.TINY, ck, Conversions.Options.defaults());
        for (GgmlType type : List.of(GgmlType.F32, GgmlType.Q8_0)) {
            Path file = dir.resolve("tiny-" + type + ".gguf");
            Conversions.cohxToGguf(ck, file, type, null, WriteProgress.NONE);
            Path dump = dir.resolve("dump-" + type);
            GgufReference.run("dump", file.toString(), dump.toString());
            JsonNode d = new ObjectMapper().readTree(dump.resolve("dump.json").toFile());
            assertEquals(3, d.get("version").asInt());
            assertEquals(32, d.get("alignment").asInt());
            JsonNode meta = d.get("metadata");
            assertEquals("llama", meta.get("general.architecture").get("value").asText());
            assertEquals("UINT32", meta.get("llama.block_count").get("type").asText());
            assertEquals(2, meta.get("llama.block_count").get("value").asInt());
            assertEquals(4, meta.get("llama.attention.head_count_kv").get("value").asInt());
            assertEquals("FLOAT32", meta.get("llama.attention.layer_norm_rms_epsilon").get("type").asText());
            assertEquals(GgufConfig.FILE_TYPES.get(type), meta.get("general.file_type").get("value").asInt());
            try (GgufLlama.Opened original = GgufLlama.open(GgufModelTest.TINY);
                 GgufReader ours = GgufReader.open(file);
                 Arena arena = Arena.ofConfined()) {
                Vocabulary v = original.tokenizer().vocabulary();
                var tokens = new ArrayList<String>();
                meta.get("tokenizer.ggml.tokens").get("value").forEach(t -> tokens.add(t.asText()));
                assertEquals(v.tokens(), tokens);
                assertEquals("INT32", meta.get("tokenizer.ggml.token_type").get("element_type").asText());
                assertEquals(v.merges().size(), meta.get("tokenizer.ggml.merges").get("value").size());
                assertEquals("smollm", meta.get("tokenizer.ggml.pre").get("value").asText());
                assertEquals(original.tokenizer().chatTemplate(), meta.get("tokenizer.chat_template").get("value").asText());
                assertEquals(1, meta.get("tokenizer.ggml.eos_token_id").get("value").asInt());

                assertEquals(ours.directory().size(), d.get("tensors").size());
                for (JsonNode t : d.get("tensors")) {
                    String name = t.get("name").asText();
                    GgufReader.Tensor mine = ours.tensor(name);
                    assertEquals(mine.type().name(), t.get("type").asText(), name);
                    assertArrayEquals(mine.shape(), new ObjectMapper().convertValue(t.get("shape"), long[].class), name);
                    assertEquals(mine.offset(), t.get("offset").asLong(), name);
                    MemorySegment theirs = MemorySegment.ofArray(Files.readAllBytes(dump.resolve(t.get("file").asText())));
                    HostTensor expected = type == GgmlType.F32 || mine.type() == GgmlType.F32
                            ? original.reader().read(name, DType.F32, arena) // F32 export: the original values exactly
                            : ours.read(name, DType.F32, arena);            // Q8_0: the reference dequantizes our blocks as we do
                    assertEquals(-1, expected.data().mismatch(theirs), name + " differs from the reference reader's values");
                }
            }
        }
    }
}
