package io.cohx.models.convert;

import io.cohx.engine.DType;
import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.checkpoint.CohxCheckpoint;
import io.cohx.models.checkpoint.Fixtures;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.PthReader;
import io.cohx.models.checkpoint.SafetensorsReader;
import io.cohx.models.checkpoint.SafetensorsWriter;
import io.cohx.models.checkpoint.TensorInfo;
import io.cohx.models.checkpoint.TensorOps;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.config.ModelConfigs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every import must give the canonical tensors the fixture script computed independently
 * ({@code *-expected.safetensors}), bit for bit; every export must give back the source files' tensors.
 */
class ConversionsTest {

    private static final Conversions.Options F32 = Conversions.Options.defaults().withDtype(DType.F32);

    /** The cohx folder's tensors equal the expected canonical tensors (after casting to f32). */
    private static void assertMatchesExpected(Path cohx, String model) {
        try (var ck = CohxCheckpoint.open(cohx);
             var exp = SafetensorsReader.open(Fixtures.path(model + "-expected.safetensors"));
             Arena a = Arena.ofConfined()) {
            assertEquals(exp.tensors().size(), ck.params().tensors().size());
            for (TensorInfo t : exp.tensors()) {
                HostTensor got = TensorOps.cast(ck.params().read(t.name(), a), DType.F32, a);
                assertTrue(got.contentEquals(exp.read(t.name(), a)), model + ": " + t.name());
            }
            assertEquals(model.equals("llama") ? "llama" : "gptj", ck.manifest().config().modelType());
        }
    }

    @Test
    void hfToCohxAndBackIsBitExact(@TempDir Path dir) {
        for (String model : List.of("llama", "gptj")) {
            Path cohx = dir.resolve(model + "-cohx");
            Conversions.hfToCohx(Fixtures.path(model + "-hf"), cohx, Conversions.Options.defaults());
            assertMatchesExpected(cohx, model);
            assertTrue(Files.exists(cohx.resolve("manifest.json")) && Files.exists(cohx.resolve("params.safetensors")));

            Path hf = dir.resolve(model + "-hf-out");
            Conversions.cohxToHf(cohx, hf, Conversions.Options.defaults());
            try (var orig = SafetensorsReader.open(Fixtures.path(model + "-hf"));
                 var back = SafetensorsReader.open(hf); Arena a = Arena.ofConfined()) {
                assertEquals(orig.tensors().size(), back.tensors().size());
                for (TensorInfo t : orig.tensors()) {
                    assertTrue(back.read(t.name(), a).contentEquals(orig.read(t.name(), a)), model + ": " + t.name());
                }
                assertEquals("pt", back.metadata().get("format"));
            }
            var cfg = ModelConfigs.readMap(hf.resolve("config.json"));
            var origCfg = ModelConfigs.readMap(Fixtures.path(model + "-hf/config.json"));
            for (String k : List.of("model_type", "vocab_size", "architectures", "torch_dtype")) {
                assertEquals(origCfg.get(k), cfg.get(k), k);
            }
            assertTrue(Files.exists(hf.resolve("generation_config.json")));
            // and the exported folder imports again to the same checkpoint
            Path again = dir.resolve(model + "-again");
            Conversions.hfToCohx(hf, again, Conversions.Options.defaults());
            assertMatchesExpected(again, model);
        }
    }

    static Path golden(String model) {
        try {
            return Path.of(ConversionsTest.class.getResource("/golden/" + model).toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Llama-3-style (grouped-query attention, llama3 rope scaling, tied embeddings) and
     * Mistral-style (multi-query attention, head_dim 16 over hidden/heads 8) folders of the golden
     * files: HF → cohx → HF gives back every tensor bit for bit (q/k permuted per query or
     * key/value head, no lm_head when tied) and a config.json with the same architecture keys; a
     * tied folder that still carries lm_head.weight imports as transformers loads it (tied).
     */
    @Test
    void llamaFamilyFoldersRoundTrip(@TempDir Path dir) throws IOException {
        for (String model : List.of("llama3", "mistral")) {
            Path cohx = dir.resolve(model + "-cohx");
            Conversions.hfToCohx(golden(model), cohx, Conversions.Options.defaults());
            Path hf = dir.resolve(model + "-hf");
            Conversions.cohxToHf(cohx, hf, Conversions.Options.defaults());
            try (var orig = SafetensorsReader.open(golden(model).resolve("model.safetensors"));
                 var back = SafetensorsReader.open(hf); Arena a = Arena.ofConfined()) {
                assertEquals(orig.tensors().stream().map(TensorInfo::name).sorted().toList(),
                        back.tensors().stream().map(TensorInfo::name).sorted().toList(), model);
                for (TensorInfo t : orig.tensors()) {
                    assertTrue(back.read(t.name(), a).contentEquals(orig.read(t.name(), a)), model + ": " + t.name());
                }
            }
            var cfg = ModelConfigs.readMap(hf.resolve("config.json"));
            var origCfg = ModelConfigs.readMap(golden(model).resolve("config.json"));
            for (String k : List.of("num_attention_heads", "num_key_value_heads", "head_dim", "rope_theta", "tie_word_embeddings",
                    "hidden_size", "max_position_embeddings")) {
                assertEquals(((Object) origCfg.get(k)).toString(), String.valueOf(cfg.get(k)), model + ": " + k);
            }
            assertEquals(origCfg.get("rope_scaling") == null ? null : origCfg.get("rope_scaling"), cfg.get("rope_scaling") == null
                    ? null : ((Map<?, ?>) cfg.get("rope_scaling")).entrySet().stream().filter(e -> !e.getKey().equals("type"))
                    .collect(java.util.stream.Collectors.toMap(e -> e.getKey().toString(), e -> e.getValue())), model);
        }
        // A tied model's folder with an lm_head.weight too (some exports keep it): transformers ties it to
        // the embedding on load, and cohx imports the same parameters without it.
        Path extra = dir.resolve("tied-with-head");
        Files.createDirectories(extra);
        Files.copy(golden("llama3").resolve("config.json"), extra.resolve("config.json"));
        try (var orig = SafetensorsReader.open(golden("llama3").resolve("model.safetensors"))) {
            var infos = new ArrayList<>(orig.tensors());
            TensorInfo emb = orig.info("model.embed_tokens.weight");
            infos.add(new TensorInfo("lm_head.weight", emb.dtype(), emb.shape()));
            SafetensorsWriter.write(extra.resolve("model.safetensors"), infos, Map.of("format", "pt"),
                    (info, arena) -> orig.read(info.name().equals("lm_head.weight") ? "model.embed_tokens.weight" : info.name(), arena)
                            .withName(info.name()), (i, n, t) -> {});
        }
        Path tied = dir.resolve("tied-cohx");
        Conversions.hfToCohx(extra, tied, Conversions.Options.defaults());
        try (var a = CohxCheckpoint.open(tied); var b = CohxCheckpoint.open(dir.resolve("llama3-cohx"))) {
            assertEquals(b.params().tensors().stream().map(TensorInfo::name).toList(),
                    a.params().tensors().stream().map(TensorInfo::name).toList());
            assertTrue(a.params().info("lm_head.kernel") == null, "no lm_head parameter when tied");
        }
    }

    @Test
    void bf16ExportAndShardedIndex(@TempDir Path dir) throws IOException {
        Path cohx = dir.resolve("c");
        Conversions.hfToCohx(Fixtures.path("llama-hf"), cohx, Conversions.Options.defaults());
        Path hf = dir.resolve("hf");
        Conversions.cohxToHf(cohx, hf, new Conversions.Options(DType.BF16, 8_000, (i, n, t) -> {}));
        assertTrue(Files.exists(hf.resolve("model.safetensors.index.json")));
        assertEquals("bfloat16", ModelConfigs.readMap(hf.resolve("config.json")).get("torch_dtype"));
        Path back = dir.resolve("back");
        Conversions.hfToCohx(hf, back, F32);
        assertMatchesExpected(back, "llama"); // fixture values are exact in bf16
    }

    @Test
    void metaShardsMergeToTheCanonicalTensors(@TempDir Path dir) {
        Path cohx = dir.resolve("m");
        var cfg = Conversions.metaToCohx(Fixtures.path("llama-meta"), cohx, F32);
        assertEquals(32, ((LlamaConfig) cfg).intermediateSize());
        assertEquals(64, cfg.vocabSize());
        assertMatchesExpected(cohx, "llama");
    }

    @Test
    void pthReaderSeesTorchSaveLayout() {
        try (var r = PthReader.open(Fixtures.path("llama-meta/consolidated.01.pth")); Arena a = Arena.ofConfined()) {
            TensorInfo emb = r.info("tok_embeddings.weight");
            assertEquals(DType.F16, emb.dtype());
            assertArrayEquals(new long[] {64, 8}, emb.shape()); // embedding split on dim 1 over 2 ranks
            assertArrayEquals(new long[] {8, 16}, r.info("layers.0.attention.wq.weight").shape());
            assertEquals("tok_embeddings.weight", r.tensors().getFirst().name());
            assertEquals(64 * 8, r.read("tok_embeddings.weight", a).numel());
        }
    }

    @Test
    void streamingParamsAndTrainStateImport(@TempDir Path dir) throws IOException {
        for (String model : List.of("llama", "gptj")) {
            var cfg = ModelConfigs.resolve(Fixtures.path(model + "-hf").toString(), null);
            Path cohx = dir.resolve(model + "-s");
            Conversions.streamingToCohx(Fixtures.path(model + "-streaming_params"), cfg, cohx, F32);
            assertMatchesExpected(cohx, model);

            // cohx -> streaming with the reference's default bf16 reproduces the reference file exactly
            Path out = dir.resolve(model + "-streaming");
            Conversions.cohxToStreaming(cohx, out, DType.BF16, (i, n, t) -> {});
            assertArrayEquals(Files.readAllBytes(Fixtures.path(model + "-streaming_params")), Files.readAllBytes(out));
        }
        var cfg = ModelConfigs.resolve(Fixtures.path("llama-hf").toString(), null);
        Path ts = dir.resolve("ts");
        Conversions.streamingToCohx(Fixtures.path("llama-streaming_train_state"), cfg, ts, Conversions.Options.defaults());
        assertMatchesExpected(ts, "llama");
        assertEquals(7, CohxCheckpoint.readManifest(ts).step());
        try (var ck = CohxCheckpoint.open(ts)) {
            assertEquals(DType.BF16, ck.params().tensors().getFirst().dtype(), "source dtype kept without --dtype");
        }
    }

    @Test
    void shapesThatDoNotFitTheConfigNameTensorAndShapes(@TempDir Path dir) throws IOException {
        Path hf = dir.resolve("hf");
        Files.createDirectories(hf);
        Files.copy(Fixtures.path("llama-hf/model.safetensors"), hf.resolve("model.safetensors"));
        var cfg = ModelConfigs.readMap(Fixtures.path("llama-hf/config.json"));
        cfg.put("intermediate_size", 48);
        Files.writeString(hf.resolve("config.json"), ModelConfigs.toJson(cfg));
        var e = assertThrows(CheckpointException.class, () -> Conversions.hfToCohx(hf, dir.resolve("out"), F32));
        assertTrue(e.getMessage().contains("'model.layers.0.mlp.gate_proj.weight'"), e.getMessage());
        assertTrue(e.getMessage().contains("[32, 16]") && e.getMessage().contains("[48, 16]"), e.getMessage());
        assertTrue(!Files.exists(dir.resolve("out")), "nothing written on error");

        var wrongLayers = ModelConfigs.resolve(Fixtures.path("llama-hf").toString(), null)
                .withUpdates(Map.of("num_hidden_layers", 3), "test");
        var e2 = assertThrows(CheckpointException.class, () -> Conversions.streamingToCohx(
                Fixtures.path("llama-streaming_params"), wrongLayers, dir.resolve("o2"), F32));
        assertTrue(e2.getMessage().contains("transformer.h.2."), e2.getMessage());
    }

    @Test
    void refusesToOverwriteANonEmptyFolder(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("taken");
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "precious");
        var e = assertThrows(CheckpointException.class, () ->
                Conversions.hfToCohx(Fixtures.path("llama-hf"), out, F32));
        assertTrue(e.getMessage().contains(out.toString()), e.getMessage());
        assertEquals("precious", Files.readString(out.resolve("keep.txt")));
    }

    @Test
    void truncatedPthNamesFile(@TempDir Path dir) throws IOException {
        Path meta = dir.resolve("meta");
        Files.createDirectories(meta);
        Files.copy(Fixtures.path("llama-meta/params.json"), meta.resolve("params.json"));
        Files.copy(Fixtures.path("llama-meta/consolidated.00.pth"), meta.resolve("consolidated.00.pth"));
        byte[] all = Files.readAllBytes(Fixtures.path("llama-meta/consolidated.01.pth"));
        Path cut = meta.resolve("consolidated.01.pth");
        Files.write(cut, java.util.Arrays.copyOf(all, all.length / 2));
        var e = assertThrows(CheckpointException.class, () -> Conversions.metaToCohx(meta, dir.resolve("o"), F32));
        assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
        assertTrue(e.getMessage().matches("(?s).*tensor '(layers|norm|output|tok_|rope).*' \\(storage \\d+\\) is cut off.*"),
                e.getMessage());
    }

    @Test
    void shortStorageInPthNamesTensor(@TempDir Path dir) throws IOException {
        // A zip that is intact but whose storage for one tensor is too short (corrupt writer).
        Path src = Fixtures.path("llama-meta/consolidated.00.pth");
        Path bad = dir.resolve("consolidated.00.pth");
        try (var zin = new ZipFile(src.toFile()); var zout = new ZipOutputStream(Files.newOutputStream(bad))) {
            for (ZipEntry e : new ArrayList<>(zin.stream().toList())) {
                byte[] data = zin.getInputStream(e).readAllBytes();
                if (e.getName().endsWith("/data/0")) {
                    data = java.util.Arrays.copyOf(data, data.length - 2);
                }
                zout.putNextEntry(new ZipEntry(e.getName()));
                zout.write(data);
                zout.closeEntry();
            }
        }
        try (var r = PthReader.open(bad); Arena a = Arena.ofConfined()) {
            var e = assertThrows(CheckpointException.class, () -> r.read("tok_embeddings.weight", a));
            assertTrue(e.getMessage().contains(bad.toString()) && e.getMessage().contains("'tok_embeddings.weight'"),
                    e.getMessage());
        }
    }
}
