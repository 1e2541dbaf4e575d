package io.cohx.cli;

import io.cohx.engine.DType;
import io.cohx.models.checkpoint.CohxCheckpoint;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.TensorInfo;
import io.cohx.models.checkpoint.WriteProgress;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.params.ParamSpec;
import io.cohx.models.params.ParamTree;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConvertCommandTest {

    /** A small LLaMA checkpoint with random bf16-exact weights, written through the models API. */
    private static ModelConfig writeRandom(Path dir) {
        ModelConfig cfg = LlamaConfig.preset("debug").withUpdates(
                Map.of("vocab_size", 96, "hidden_size", 32, "intermediate_size", 64, "num_attention_heads", 4), "test");
        var tensors = ParamTree.of(cfg).params().stream()
                .map(p -> new TensorInfo(p.path(), DType.F32, p.shape())).toList();
        CohxCheckpoint.write(dir, cfg, 3, tensors, (info, arena) -> {
            HostTensor t = HostTensor.allocate(info.name(), DType.F32, info.shape(), arena);
            var rnd = new SplittableRandom(info.name().hashCode());
            for (long i = 0; i < t.numel(); i++) {
                t.data().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, rnd.nextInt(-100, 100) / 256f);
            }
            return t;
        }, CohxCheckpoint.DEFAULT_SHARD_BYTES, Map.of(), WriteProgress.NONE);
        return cfg;
    }

    @Test
    void convertsAroundTheFormatsAndBack(@TempDir Path dir) throws Exception {
        Path start = dir.resolve("start");
        ModelConfig cfg = writeRandom(start);
        Path cfgJson = dir.resolve("model.json");
        Files.writeString(cfgJson, ModelConfigs.toJson(cfg));

        var hf = PluginsCommandTest.run("convert", "cohx-to-hf", start.toString(), dir.resolve("hf").toString());
        assertEquals(0, hf.rc(), hf.err());
        assertTrue(hf.err().contains("convert: [1/"), hf.err());
        var back = PluginsCommandTest.run("convert", "hf-to-cohx", dir.resolve("hf").toString(), dir.resolve("c2").toString());
        assertEquals(0, back.rc(), back.err());
        var st = PluginsCommandTest.run("convert", "cohx-to-streaming", dir.resolve("c2").toString(),
                dir.resolve("streaming_params").toString());
        assertEquals(0, st.rc(), st.err());
        var c3 = PluginsCommandTest.run("convert", "streaming-to-cohx", dir.resolve("streaming_params").toString(),
                dir.resolve("c3").toString(), "--model-config", cfgJson.toString(), "--dtype", "f32");
        assertEquals(0, c3.rc(), c3.err());

        try (var a = CohxCheckpoint.open(start); var b = CohxCheckpoint.open(dir.resolve("c3")); Arena arena = Arena.ofConfined()) {
            for (ParamSpec p : ParamTree.of(cfg).params()) {
                assertTrue(a.params().read(p.path(), arena).contentEquals(b.params().read(p.path(), arena)), p.path());
            }
            assertEquals(a.manifest().config(), b.manifest().config().withUpdates(Map.of(), "x"));
        }
    }

    @Test
    void badInputIsOneClearLine(@TempDir Path dir) {
        Path start = dir.resolve("start");
        writeRandom(start);
        var r = PluginsCommandTest.run("convert", "cohx-to-streaming", start.toString(), dir.resolve("s").toString());
        assertEquals(0, r.rc(), r.err());
        var bad = PluginsCommandTest.run("convert", "streaming-to-cohx", dir.resolve("s").toString(), dir.resolve("o").toString(),
                "--model-config", "llama:debug");
        assertEquals(2, bad.rc());
        assertTrue(bad.err().startsWith("cohx: ") && bad.err().contains("shape"), bad.err());
        var key = PluginsCommandTest.run("convert", "streaming-to-cohx", dir.resolve("s").toString(), dir.resolve("o").toString(),
                "--model-config", "llama:debug", "--update-model-config", "hiden_size=32");
        assertEquals(2, key.rc());
        assertTrue(key.err().contains("'hiden_size'") && key.err().contains("--update-model-config"), key.err());
        var size = PluginsCommandTest.run("convert", "hf-to-cohx", dir.toString(), dir.resolve("x").toString(), "--shard-size", "lots");
        assertEquals(2, size.rc());
        assertTrue(size.err().contains("--shard-size"), size.err());
    }
}
