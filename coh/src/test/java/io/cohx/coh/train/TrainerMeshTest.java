package io.cohx.coh.train;

import io.cohx.coh.observe.MetricsLog;
import io.cohx.engine.mesh.MeshException;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code cohx train --mesh-dim} through the Trainer: sharded runs follow the single-device run,
 * and a checkpoint written under 1,8,1 resumes under 2,2,2 with the same losses.
 */
class TrainerMeshTest {
    static final String TINY = "hidden_size=32,intermediate_size=64,num_hidden_layers=1,num_attention_heads=2,vocab_size=50304";

    @TempDir
    static Path data;

    @org.junit.jupiter.api.BeforeAll
    static void pack() {
        TrainerTest.packInto(data);
    }

    static TrainConfig cfg(Path out, String mesh, long steps, boolean resume, int batch) {
        return TrainerTest.config("llama", TINY, "gpt2", out, steps, batch, 1, "fp32", 3e-3, 0.01, resume, 0).with(c -> c.meshDim = mesh);
    }

    static Trainer.Result run(TrainConfig c, int devices, Long stopAfter) throws IOException {
        var sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        return new Trainer(c, TestPlugins.cpuClient(devices), sink).run(stopAfter);
    }

    @Test
    void shardedRunResumedOnAnotherMeshFollowsOneDevice(@TempDir Path dir) throws IOException {
        run(cfg(dir.resolve("one"), "1,1,1", 3, false, 8), 1, null);
        run(cfg(dir.resolve("mesh"), "1,8,1", 3, false, 8), 8, 2L);
        var resumed = run(cfg(dir.resolve("mesh"), "2,2,2", 3, true, 8), 8, null);
        assertEquals(3, resumed.step());
        List<MetricsLog.Record> a = MetricsLog.read(dir.resolve("one").resolve("metrics.jsonl"));
        List<MetricsLog.Record> b = MetricsLog.read(dir.resolve("mesh").resolve("metrics.jsonl"));
        assertEquals(3, a.size());
        assertEquals(3, b.size());
        for (int i = 0; i < 3; i++) {
            for (String k : List.of("hf_loss", "pt_loss", "gradient_norm")) {
                double x = a.get(i).get(k), y = b.get(i).get(k);
                assertEquals(x, y, 1e-4 * Math.abs(x), "step " + (i + 1) + " " + k + " (steps 1-2 on 1,8,1, step 3 resumed on 2,2,2)");
            }
        }
    }

    @Test
    void batchThatDoesNotSplitOverTheMeshIsRefusedBeforeCompiling(@TempDir Path dir) throws IOException {
        var e = assertThrows(TrainingException.class, () -> run(cfg(dir.resolve("x"), "8,1,1", 1, false, 3), 8, null));
        assertTrue(e.getMessage().startsWith("--batch-size 3 does not split over dp x fsdp = 8"), e.getMessage());
        var e2 = assertThrows(MeshException.class, () -> run(cfg(dir.resolve("y"), "3,3,1", 1, false, 8), 8, null));
        assertTrue(e2.getMessage().contains("9 positions but there are 8 devices"), e2.getMessage());
    }
}
