package io.cohx.cli;

import io.cohx.coh.observe.MetricsLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlotCommandTest {
    @Test
    void plotsARunAndExplainsAMissingOne(@TempDir Path run) {
        try (var log = new MetricsLog(run, -1)) {
            for (int s = 1; s <= 5; s++) {
                log.log(s, "train", Map.of("hf_loss", 1.0 / s));
            }
        }
        var r = PluginsCommandTest.run("plot", run.toString());
        assertEquals(0, r.rc(), r.err());
        assertTrue(Files.isRegularFile(run.resolve("loss.png")));
        assertTrue(r.out().contains("(1 series)"), r.out());
        var missing = PluginsCommandTest.run("plot", run.resolve("nope").toString());
        assertEquals(2, missing.rc());
        assertTrue(missing.err().contains("no metrics.jsonl in " + run.resolve("nope")), missing.err());
    }
}
