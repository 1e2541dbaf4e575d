package io.cohx.cli;

import org.junit.jupiter.api.Test;

import static io.cohx.cli.PluginsCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The top-level command line: mistyped commands are named as such, with the closest one suggested. */
class MainTest {

    @Test
    void anUnknownCommandIsNamedWithTheClosestOneAndExitsTwo() {
        var r = run("evall");
        assertEquals(2, r.rc(), r.out() + r.err());
        assertTrue(r.err().startsWith("cohx: unknown command 'evall'; did you mean 'eval'?"), r.err());
        assertTrue(r.err().contains("See 'cohx --help'."), r.err());
        assertFalse(r.err().contains("cohx cohx"), r.err());

        var far = run("frobnicate");
        assertEquals(2, far.rc());
        assertTrue(far.err().startsWith("cohx: unknown command 'frobnicate'\n"), far.err());

        var nested = run("convert", "hf-to-cohxx", "a", "b");
        assertEquals(2, nested.rc());
        assertTrue(nested.err().startsWith("cohx convert: unknown command 'hf-to-cohxx'; did you mean 'hf-to-cohx'?"), nested.err());
        assertTrue(nested.err().contains("See 'cohx convert --help'."), nested.err());
    }

    @Test
    void everyCommandHasItsOwnHelp() {
        for (String command : Main.commandLine().getSubcommands().keySet()) {
            if (command.equals("help")) {
                continue;
            }
            var r = run(command, "--help");
            assertEquals(0, r.rc(), command + ": " + r.err());
            assertTrue(r.out().startsWith("Usage: cohx " + command), command + ": " + r.out());
        }
    }
}
