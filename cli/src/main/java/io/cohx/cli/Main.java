package io.cohx.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code cohx}: parses the command line and hands over to a subcommand. */
@Command(name = "cohx", mixinStandardHelpOptions = true, version = "cohx 0.1.0",
        description = "Chain of Hindsight alignment of language models, on OpenXLA PJRT.",
        subcommands = {
            PluginsCommand.class,
            PlotCommand.class,
            PackCommand.class,
            ConvertCommand.class,
            CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; user errors print one clear message, not a stack trace. */
    static CommandLine commandLine() {
        var cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            if (ex instanceof CohxUserError || ex instanceof io.cohx.pjrt.plugins.PluginException
                    || ex instanceof io.cohx.pjrt.PjrtException || ex instanceof java.io.UncheckedIOException) {
                line.getErr().println("cohx: " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cl;
    }
}
