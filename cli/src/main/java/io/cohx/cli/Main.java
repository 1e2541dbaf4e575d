package io.cohx.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code cohx}: parses the command line and hands over to a subcommand. */
@Command(name = "cohx", mixinStandardHelpOptions = true, version = "cohx 0.1.0",
        description = "Chain of Hindsight alignment of language models, on OpenXLA PJRT.",
        subcommands = {CommandLine.HelpCommand.class, PackCommand.class})
public final class Main implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }
}
