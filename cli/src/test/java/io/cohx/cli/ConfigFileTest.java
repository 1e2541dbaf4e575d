package io.cohx.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigFileTest {

    @Command(name = "t")
    static final class Opts {
        @Option(names = "--total-steps") long totalSteps = 10;
        @Option(names = "--lr") double lr = 0.01;
        @Option(names = "--remat") boolean remat;
        @Option(names = "--dataset") List<String> datasets;
        @Option(names = "--update-model-config") String update;
        @Option(names = "--config") Path config;
    }

    static Opts parse(String... args) {
        var o = new Opts();
        var cl = new CommandLine(o).setOverwrittenOptionsAllowed(true);
        cl.parseArgs(ConfigFile.expand(args, cl.getCommandSpec()));
        return o;
    }

    @Test
    void fileSetsOptionsAndFlagsOverrideIt(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("c.json"), """
                {"total_steps": 500, "lr": 0.002, "remat": true, "dataset": ["a.jsonl", "b.jsonl"],
                 "update-model-config": {"hidden_size": 64}}
                """);
        var o = parse("--config", f.toString(), "--lr", "0.5");
        assertEquals(500, o.totalSteps);
        assertEquals(0.5, o.lr, "the flag wins over the file");
        assertTrue(o.remat);
        assertEquals(List.of("a.jsonl", "b.jsonl"), o.datasets);
        assertEquals("{\"hidden_size\":64}", o.update);
        var d = parse("--lr=0.3");
        assertEquals(10, d.totalSteps);
        assertFalse(d.remat);
    }

    @Test
    void unknownKeyNamesFileKeyAndClosestName(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("c.json"), "{\"totl_steps\": 5}");
        var e = assertThrows(CohxUserError.class, () -> parse("--config", f.toString()));
        assertEquals(f + ": unknown key 'totl_steps'; did you mean 'total-steps'?", e.getMessage());
        Path g = Files.writeString(dir.resolve("g.json"), "{\"zzzzzzzzzz\": 5}");
        var e2 = assertThrows(CohxUserError.class, () -> parse("--config", g.toString()));
        assertTrue(e2.getMessage().endsWith("see --help for the valid options"), e2.getMessage());
    }

    @Test
    void malformedJsonNamesTheLine(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("c.json"), "{\n  \"lr\": 0.1,\n  oops\n}");
        var e = assertThrows(CohxUserError.class, () -> parse("--config", f.toString()));
        assertTrue(e.getMessage().startsWith(f + ":3:"), e.getMessage());
        Path s = Files.writeString(dir.resolve("s.json"), "{\"remat\": \"yes\"}");
        var e2 = assertThrows(CohxUserError.class, () -> parse("--config", s.toString()));
        assertTrue(e2.getMessage().contains("is a switch; use true or false"), e2.getMessage());
    }
}
