package io.cohx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The command line built for one request (only the named subcommand in full) behaves as the one
 * with every subcommand built: same help, same errors, same runs; mistyped commands are named as
 * such, with the closest one suggested.
 */
class MainTest {

    record Run(int rc, String out, String err) {}

    /** Runs {@code args} on the command line {@code lazy} or the full one, built once stdout is captured. */
    private static Run run(boolean lazy, String... args) {
        var out = new ByteArrayOutputStream();
        var err = new StringWriter();
        PrintStream old = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            var cl = lazy ? Main.commandLine(args) : Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            int rc = Main.run(cl, args);
            return new Run(rc, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    private static void sameAsFull(String... args) {
        Run full = run(false, args);
        Run lazy = run(true, args);
        assertEquals(full, lazy, String.join(" ", args));
    }

    @Test
    void topLevelHelpListsEveryCommandAsTheFullTreeDoes() {
        sameAsFull("--help");
        sameAsFull();
        assertTrue(run(true).out().contains("\n  pack "), "cohx alone lists the commands");
        sameAsFull("help");
        Run r = run(true, "--help");
        for (Class<?> type : Main.SUBCOMMANDS) {
            String name = type.getAnnotation(CommandLine.Command.class).name();
            assertTrue(r.out().contains("\n  " + name + " "), name + " missing from:\n" + r.out());
        }
    }

    @Test
    void subcommandHelpAndErrorsMatchTheFullTree() {
        sameAsFull("pack", "--help");
        sameAsFull("help", "pack");
        sameAsFull("-h", "train");
        sameAsFull("eval", "dialogue", "--help");
        sameAsFull("pack", "--include-feedbak", "p");
        sameAsFull("pakc");
        Run unknown = run(true, "pakc");
        assertEquals(2, unknown.rc());
        assertTrue(unknown.err().contains("pakc"), unknown.err());
        sameAsFull("--version");
    }

    @Test
    void onlyTheNamedSubcommandIsBuiltInFull() {
        var cl = Main.commandLine(new String[] {"pack", "--help"});
        assertNotEquals(null, cl.getSubcommands().get("pack").getCommandSpec().findOption("--include-feedback"));
        assertEquals(null, cl.getSubcommands().get("train").getCommandSpec().findOption("--help"));
        assertEquals(cl.getSubcommands().keySet(), Main.commandLine().getSubcommands().keySet());
    }

    @Test
    void anUnknownCommandIsNamedWithTheClosestOneAndExitsTwo() {
        var r = PluginsCommandTest.run("evall");
        assertEquals(2, r.rc(), r.out() + r.err());
        assertTrue(r.err().startsWith("cohx: unknown command 'evall'; did you mean 'eval'?"), r.err());
        assertTrue(r.err().contains("See 'cohx --help'."), r.err());
        assertFalse(r.err().contains("cohx cohx"), r.err());

        var far = PluginsCommandTest.run("frobnicate");
        assertEquals(2, far.rc());
        assertTrue(far.err().startsWith("cohx: unknown command 'frobnicate'\n"), far.err());

        var nested = PluginsCommandTest.run("convert", "hf-to-cohxx", "a", "b");
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
            var r = PluginsCommandTest.run(command, "--help");
            assertEquals(0, r.rc(), command + ": " + r.err());
            assertTrue(r.out().startsWith("Usage: cohx " + command), command + ": " + r.out());
        }
    }
}
