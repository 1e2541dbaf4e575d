package io.cohx.models.gguf;

import io.cohx.engine.DType;
import io.cohx.engine.NdArray;
import io.cohx.models.GgufWeights;
import io.cohx.models.HfWeights;
import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.checkpoint.CohxCheckpoint;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.WriteProgress;
import io.cohx.models.config.ConfigException;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.convert.Conversions;
import io.cohx.models.convert.GgufLlama;
import io.cohx.models.testdata.TestModels;
import io.cohx.models.tokenizer.BundledTokenizer;
import io.cohx.models.tokenizer.Vocabulary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GGUF as a model: config and tokenizer from metadata, canonical weights (tiny-llama.gguf was made
 * from the Hugging Face golden LLaMA with llama.cpp's q/k permutation, so it must load equal to
 * the Hugging Face import), cohx checkpoints that keep the tokenizer, the writer read back, the
 * real SmolLM2 metadata, and bad files.
 */
class GgufModelTest {
    static final Path TINY = GgufReaderTest.resource("tiny-llama.gguf");
    static final Path GOLDEN_HF = GgufReaderTest.resource("../golden/llama");

    @Test
    void configComesFromMetadataAsFromConfigJson() {
        try (GgufLlama.Opened g = GgufLlama.open(TINY)) {
            ModelConfig hf = ModelConfigs.read(GOLDEN_HF.resolve("config.json"), null);
            assertEquals(hf.toMap(), g.config().toMap());
        }
    }

    @Test
    void weightsLoadEqualToTheHuggingFaceImportOfTheSameModel() {
        GgufWeights.Loaded gguf = GgufWeights.load(TINY);
        HfWeights.Loaded hf = HfWeights.load(GOLDEN_HF);
        assertEquals(hf.params().paths(), gguf.params().paths());
        for (String p : hf.params().paths()) {
            assertTrue(same(hf.params().get(p), gguf.params().get(p)), p);
        }
    }

    private static boolean same(NdArray a, NdArray b) {
        return a.type().equals(b.type()) && a.segment().mismatch(b.segment()) == -1;
    }

    @Test
    void vocabularyAndChatTemplateMapFromTokenizerKeys() {
        try (GgufLlama.Opened g = GgufLlama.open(TINY)) {
            Vocabulary v = g.tokenizer().vocabulary();
            assertEquals("gpt2", v.kind());
            assertEquals("smollm", v.preTokenizer());
            assertEquals(256, v.tokens().size());
            assertEquals("<|im_end|>", v.tokens().get(2));
            assertEquals(List.of("h e", "l l", "he ll", "o r", "Ġ t", "Ġt he"), v.merges());
            assertNull(v.scores());
            assertEquals(3, v.tokenTypes()[0]);
            assertEquals(1, v.tokenTypes()[255]);
            assertEquals(List.of(0, 1, 1, -1), List.of(v.bosId(), v.eosId(), v.padId(), v.unkId()));
            assertFalse(v.addBos());
            assertFalse(v.addEos());
            assertTrue(g.tokenizer().chatTemplate().startsWith("{% for message in messages %}"));
        }
    }

    @Test
    void ggufToCohxKeepsWeightsTokenizerAndTemplate(@TempDir Path dir) {
        Path ck = dir.resolve("ck");
        Conversions.ggufToCohx(TINY, ck, Conversions.Options.defaults());
        assertTrue(Files.isRegularFile(ck.resolve(BundledTokenizer.VOCABULARY_FILE)));
        assertTrue(Files.isRegularFile(ck.resolve(BundledTokenizer.CHAT_TEMPLATE_FILE)));
        Map<String, Object> tokEntry = (Map<String, Object>) CohxCheckpoint.readManifest(ck).extra().get("tokenizer");
        assertEquals(256, tokEntry.get("tokens"));
        BundledTokenizer kept = CohxCheckpoint.tokenizer(ck);
        try (GgufLlama.Opened g = GgufLlama.open(TINY)) {
            assertVocabEquals(g.tokenizer(), kept);
        }
        HfWeights.Loaded hf = HfWeights.load(GOLDEN_HF);
        try (CohxCheckpoint.Opened o = CohxCheckpoint.open(ck); Arena arena = Arena.ofConfined()) {
            assertEquals(hf.config().toMap(), o.manifest().config().toMap());
            for (String p : hf.params().paths()) {
                HostTensor t = o.params().read(p, arena);
                assertEquals(-1, t.data().mismatch(hf.params().get(p).segment()), p);
            }
        }
        Path bf16 = dir.resolve("bf16");
        Conversions.ggufToCohx(TINY, bf16, Conversions.Options.defaults().withDtype(DType.BF16));
        try (CohxCheckpoint.Opened o = CohxCheckpoint.open(bf16); Arena arena = Arena.ofConfined()) {
            HostTensor wq = o.params().read("transformer.h.1.attention.wq.kernel", arena);
            assertEquals(DType.BF16, wq.dtype());
            HostTensor want = io.cohx.models.checkpoint.TensorOps.cast(HostTensor.of("wq",
                    hf.params().get("transformer.h.1.attention.wq.kernel")), DType.BF16, arena);
            assertEquals(-1, wq.data().mismatch(want.data()));
        }
    }

    static void assertVocabEquals(BundledTokenizer a, BundledTokenizer b) {
        Vocabulary x = a.vocabulary();
        Vocabulary y = b.vocabulary();
        assertEquals(x.kind(), y.kind());
        assertEquals(x.preTokenizer(), y.preTokenizer());
        assertEquals(x.tokens(), y.tokens());
        assertArrayEquals(x.scores(), y.scores());
        assertArrayEquals(x.tokenTypes(), y.tokenTypes());
        assertEquals(x.merges(), y.merges());
        assertEquals(List.of(x.bosId(), x.eosId(), x.padId(), x.unkId(), x.addBos() ? 1 : 0, x.addEos() ? 1 : 0),
                List.of(y.bosId(), y.eosId(), y.padId(), y.unkId(), y.addBos() ? 1 : 0, y.addEos() ? 1 : 0));
        assertEquals(a.chatTemplate(), b.chatTemplate());
    }

    @Test
    void cohxToGgufReadsBackInEveryEncoding(@TempDir Path dir) {
        Path ck = dir.resolve("ck");
        Conversions.ggufToCohx(TINY, ck, Conversions.Options.defaults());
        GgufWeights.Loaded original = GgufWeights.load(TINY);
        for (GgmlType type : GgufWriter.WRITABLE) {
            Path out = dir.resolve("out-" + type + ".gguf");
            Conversions.cohxToGguf(ck, out, type, null, WriteProgress.NONE);
            try (GgufLlama.Opened g = GgufLlama.open(out); Arena arena = Arena.ofConfined()) {
                assertEquals(original.config().toMap(), g.config().toMap(), type.name());
                try (GgufLlama.Opened t = GgufLlama.open(TINY)) {
                    assertVocabEquals(t.tokenizer(), g.tokenizer());
                }
                assertEquals(GgufConfig.FILE_TYPES.get(type), (int) g.reader().get("general.file_type").asLong());
                for (var e : g.naming().entries()) {
                    GgufReader.Tensor raw = g.reader().tensor(e.ggufName());
                    assertEquals(e.shape().length == 1 ? GgmlType.F32 : type, raw.type(), e.ggufName());
                    assertEquals(0, raw.offset() % 32, e.ggufName() + " is aligned");
                    // Compared in the GGUF layout, where Q8_0's blocks are 32 consecutive values.
                    float[] got = g.reader().read(e.ggufName(), DType.F32, arena).toFloats();
                    float[] want = g.naming().toGguf(e, HostTensor.of(e.path(), original.params().get(e.path())), arena).toFloats();
                    assertClose(type, e, raw, want, got);
                    assertArrayEquals(g.naming().fromGguf(e, HostTensor.ofFloats(e.ggufName(), e.ggufShape(), got), arena).toFloats(),
                            g.read(e, DType.F32, arena).toFloats(), e.path());
                }
            }
        }
    }

    /** F32 exact; F16/BF16 the nearest-even rounding; Q8_0 within half a quantization step of its block. */
    private static void assertClose(GgmlType type, GgufNaming.Entry e, GgufReader.Tensor raw, float[] want, float[] got) {
        if (raw.type() == GgmlType.F32) {
            assertArrayEquals(want, got, e.path());
            return;
        }
        for (int i = 0; i < want.length; i++) {
            float w = want[i];
            switch (type) {
                case F16 -> assertEquals(Float.float16ToFloat(Float.floatToFloat16(w)), got[i], e.path() + "[" + i + "]");
                case BF16 -> assertEquals(io.cohx.engine.HalfFloats.bf16ToFloat(io.cohx.engine.HalfFloats.toBf16(w)), got[i],
                        e.path() + "[" + i + "]");
                default -> {
                    int start = i / 32 * 32;
                    float amax = 0;
                    for (int j = start; j < start + 32; j++) {
                        amax = Math.max(amax, Math.abs(want[j]));
                    }
                    float step = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
                    assertTrue(Math.abs(w - got[i]) <= step * 0.5f + amax * 1e-3f,
                            e.ggufName() + "[" + i + "]: " + w + " vs " + got[i] + " (step " + step + ")");
                }
            }
        }
    }

    @Test
    void exportWithoutAVocabularyNeedsVocabFrom(@TempDir Path dir) {
        Path ck = dir.resolve("ck");
        Conversions.ggufToCohx(TINY, ck, Conversions.Options.defaults());
        Path bare = dir.resolve("bare");
        Conversions.cohxToHf(ck, dir.resolve("hf"), Conversions.Options.defaults());
        Conversions.hfToCohx(dir.resolve("hf"), bare, Conversions.Options.defaults());
        var e = assertThrows(CheckpointException.class,
                () -> Conversions.cohxToGguf(bare, dir.resolve("x.gguf"), GgmlType.F32, null, WriteProgress.NONE));
        assertTrue(e.getMessage().contains("--vocab-from"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("x.gguf")));
        Conversions.cohxToGguf(bare, dir.resolve("x.gguf"), GgmlType.F32, TINY, WriteProgress.NONE);
        try (GgufLlama.Opened g = GgufLlama.open(dir.resolve("x.gguf"))) {
            assertNotNull(g.tokenizer());
        }
    }

    @Test
    void smolLm2MetadataMapsToTheHuggingFaceKeys() {
        try (GgufReader r = GgufReader.open(TestModels.smolLm2())) {
            Map<String, Object> hf = GgufConfig.hfConfig(r);
            assertEquals(49152, hf.get("vocab_size"));
            assertEquals(576, hf.get("hidden_size"));
            assertEquals(1536, hf.get("intermediate_size"));
            assertEquals(30, hf.get("num_hidden_layers"));
            assertEquals(9, hf.get("num_attention_heads"));
            assertEquals(3, hf.get("num_key_value_heads"));
            assertEquals(64, hf.get("head_dim"));
            assertEquals(8192, hf.get("max_position_embeddings"));
            assertEquals(1e-5, hf.get("rms_norm_eps"));
            assertEquals(100000.0, hf.get("rope_theta"));
            assertNull(hf.get("rope_scaling"));
            assertEquals(true, hf.get("tie_word_embeddings"));
            assertEquals(1, hf.get("bos_token_id"));
            assertEquals(2, hf.get("eos_token_id"));
            BundledTokenizer t = GgufVocabulary.read(r);
            Vocabulary v = t.vocabulary();
            assertEquals("gpt2", v.kind());
            assertEquals("smollm", v.preTokenizer());
            assertEquals(49152, v.tokens().size());
            assertEquals(48900, v.merges().size());
            assertEquals("Ġ t", v.merges().getFirst());
            assertEquals(List.of(1, 2, 2, 0), List.of(v.bosId(), v.eosId(), v.padId(), v.unkId()));
            assertFalse(v.addBos());
            assertTrue(t.chatTemplate().contains("<|im_start|>"), t.chatTemplate());
            // Until grouped-query attention lands in LlamaConfig, the config refuses 3 KV heads by name;
            // afterwards it must read them.
            try {
                ModelConfig c = GgufConfig.read(r);
                assertEquals(3, c.toMap().get("num_key_value_heads"));
                assertTrue(c.tieWordEmbeddings());
            } catch (ConfigException e) {
                assertTrue(e.getMessage().contains("num_key_value_heads") && e.getMessage().contains(r.source().toString()),
                        e.getMessage());
            }
        }
    }

    // ---- bad input: files rewritten from tiny-llama.gguf with one thing changed ----

    private static Path rewrite(Path dir, String name, Consumer<Map<String, GgufValue>> edit, List<String> dropTensors) {
        Path out = dir.resolve(name);
        try (GgufReader r = GgufReader.open(TINY)) {
            var meta = new LinkedHashMap<>(r.metadata());
            edit.accept(meta);
            var specs = new ArrayList<GgufWriter.Spec>();
            for (GgufReader.Tensor t : r.directory()) {
                if (!dropTensors.contains(t.name())) {
                    specs.add(new GgufWriter.Spec(t.name(), GgmlType.F32, t.shape()));
                }
            }
            GgufWriter.write(out, meta, specs, 32, (s, arena) -> r.read(s.name(), arena), WriteProgress.NONE);
        }
        return out;
    }

    private static String error(Path file) {
        var e = assertThrows(RuntimeException.class, () -> GgufLlama.open(file).close());
        assertTrue(e instanceof CheckpointException || e instanceof ConfigException, e.toString());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        return e.getMessage();
    }

    @Test
    void unsupportedArchitectureIsNamed(@TempDir Path dir) {
        String msg = error(rewrite(dir, "falcon.gguf", m -> m.put("general.architecture", GgufValue.string("falcon")), List.of()));
        assertTrue(msg.contains("'falcon'") && msg.contains("[llama]"), msg);
    }

    @Test
    void missingConfigKeyIsNamed(@TempDir Path dir) {
        String msg = error(rewrite(dir, "nolayers.gguf", m -> m.remove("llama.block_count"), List.of()));
        assertTrue(msg.contains("llama.block_count"), msg);
    }

    @Test
    void missingTokenizerMetadataIsNamed(@TempDir Path dir) {
        Path noTokens = rewrite(dir, "notokens.gguf", m -> m.remove("tokenizer.ggml.tokens"), List.of());
        String msg = error(noTokens);
        assertTrue(msg.contains("tokenizer.ggml.tokens"), msg);
        Path noTokenizer = rewrite(dir, "notokenizer.gguf", m -> m.keySet().removeIf(k -> k.startsWith("tokenizer.")), List.of());
        try (GgufLlama.Opened g = GgufLlama.open(noTokenizer)) {
            assertNull(g.tokenizer(), "weights alone still load; the tokenizer must then come from --tokenizer");
            var e = assertThrows(CheckpointException.class, () -> GgufVocabulary.read(g.reader()));
            assertTrue(e.getMessage().contains("tokenizer.ggml.model") && e.getMessage().contains(noTokenizer.toString()),
                    e.getMessage());
        }
        Path noMerges = rewrite(dir, "nomerges.gguf", m -> m.remove("tokenizer.ggml.merges"), List.of());
        assertTrue(error(noMerges).contains("tokenizer.ggml.merges"));
        Path t5 = rewrite(dir, "t5.gguf", m -> m.put("tokenizer.ggml.model", GgufValue.string("t5")), List.of());
        assertTrue(error(t5).contains("'t5'") && error(t5).contains("gpt2"));
    }

    @Test
    void shapesNotMatchingTheConfigNameTheTensor(@TempDir Path dir) {
        String msg = error(rewrite(dir, "ffn.gguf", m -> m.put("llama.feed_forward_length", GgufValue.u32(128)), List.of()));
        assertTrue(msg.contains("blk.0.ffn_gate.weight") && msg.contains("[160, 64]") && msg.contains("[128, 64]"), msg);
        String missing = error(rewrite(dir, "nonorm.gguf", m -> { }, List.of("blk.1.ffn_norm.weight")));
        assertTrue(missing.contains("blk.1.ffn_norm.weight"), missing);
    }

    @Test
    void tiedEmbeddingsAreAnAbsentOutputWeight(@TempDir Path dir) {
        Path tied = rewrite(dir, "tied.gguf", m -> { }, List.of("output.weight"));
        try (GgufLlama.Opened g = GgufLlama.open(tied)) {
            assertTrue(g.config().tieWordEmbeddings());
            assertNull(g.naming().byGgufName("output.weight"));
        }
    }

    @Test
    void llama3RopeFactorsAreRecognised() {
        float[] f = GgufConfig.llama3Factors(500000, 64, 8, 1, 4, 8192);
        Map<String, Object> rs = GgufConfig.llama3FromFactors(f, 500000, 64, 8192, Path.of("x.gguf"));
        assertEquals(Map.of("rope_type", "llama3", "factor", 8.0, "low_freq_factor", 1.0, "high_freq_factor", 4.0,
                "original_max_position_embeddings", 8192), rs);
        assertTrue(f[0] == 1f && f[31] == 8f && Arrays.stream(new int[] {15, 16, 17}).anyMatch(i -> f[i] > 1 && f[i] < 8),
                Arrays.toString(f));
        f[5] = 3;
        var e = assertThrows(CheckpointException.class, () -> GgufConfig.llama3FromFactors(f, 500000, 64, 8192, Path.of("x.gguf")));
        assertTrue(e.getMessage().contains("rope_freqs.weight"), e.getMessage());
    }
}
