package io.cohx.cli;

import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cohx plugins ...} end to end through picocli, on the real CPU plugin. */
class PluginsCommandTest {

    record Run(int rc, String out, String err) {}

    static Run run(String... args) {
        var out = new ByteArrayOutputStream();
        var err = new StringWriter();
        PrintStream old = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            var cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            int rc = Main.run(cl, args);
            return new Run(rc, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void doctorPrintsPlatformApiVersionAndDevices() {
        TestPlugins.cpuLibrary(); // installed through the same installer `cohx plugins install cpu` uses
        Run r = run("plugins", "doctor", "cpu");
        assertEquals(0, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("PJRT C API:  0.81"), r.out());
        assertTrue(r.out().contains("platform:    cpu"), r.out());
        assertTrue(r.out().contains("devices:     4 (4 addressable: 4 x cpu)"), r.out());
        assertTrue(r.out().contains("status:      OK"), r.out());
    }

    @Test
    void doctorOnAMissingFileFailsWithTheInstallCommand() {
        Run r = run("plugins", "doctor", "--plugin", "/nonexistent/plugin.so");
        assertEquals(1, r.rc());
        assertTrue(r.out().contains("FAILED: no PJRT plugin at /nonexistent/plugin.so") && r.out().contains("cohx plugins install"), r.out());
    }

    @Test
    void unknownPluginNameListsTheValidNames() {
        Run r = run("plugins", "install", "rocm");
        assertEquals(2, r.rc());
        assertEquals("cohx: unknown plugin 'rocm'; valid names: cpu, cuda12, cuda13, tpu", r.err().strip());
    }

    @Test
    void installOfAnInstalledPluginPrintsItsPath() {
        Run r = run("plugins", "install", "cpu");
        assertEquals(0, r.rc(), r.err());
        assertEquals(TestPlugins.cpuLibrary().toString(), r.out().strip());
    }

    @Test
    void everyCommandHasHelp() {
        for (String[] args : new String[][] {{"--help"}, {"plugins", "--help"}, {"plugins", "install", "--help"},
                {"plugins", "list", "--help"}, {"plugins", "doctor", "--help"}}) {
            Run r = run(args);
            assertEquals(0, r.rc(), String.join(" ", args));
            assertTrue(r.out().contains("Usage:"), r.out());
        }
    }
}
