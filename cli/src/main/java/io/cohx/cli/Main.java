package io.cohx.cli;

import io.cohx.models.config.Suggestions;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Entry point of {@code cohx}: parses the command line and hands over to a subcommand.
 *
 * <p>Only the subcommand a command line names is built in full: picocli builds a command's model
 * by reflection over every option, mixin and nested command, which for all of them together was
 * most of the time {@code cohx --help} and a small {@code cohx pack} spent before doing anything.
 * The others are registered by name and description only, enough for the command list of
 * {@code cohx --help} and for suggesting a command (docs/STARTUP.md).
 */
@Command(name = "cohx", mixinStandardHelpOptions = true, version = "cohx 0.1.0",
        description = "Chain of Hindsight alignment of language models, on OpenXLA PJRT.")
public final class Main implements Runnable {

    /** The subcommands, in the order {@code cohx --help} lists them ({@code help} comes last). */
    static final List<Class<?>> SUBCOMMANDS = List.of(
            PluginsCommand.class,
            PlotCommand.class,
            TrainCommand.class,
            DemoCommand.class,
            PackCommand.class,
            ConvertCommand.class,
            ServeCommand.class,
            GenerateCommand.class,
            EvalCommand.class);

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out); // this command line's, which lists the subcommands
    }

    public static void main(String[] args) {
        System.exit(run(commandLine(args), args));
    }

    /** Runs one command line (config files expanded); returns the exit code. */
    static int run(CommandLine cl, String[] args) {
        String[] expanded;
        try {
            expanded = expandConfig(cl, args);
        } catch (CohxUserError e) {
            cl.getErr().println("cohx: " + e.getMessage());
            return 2;
        }
        return cl.execute(expanded);
    }

    /** Replaces {@code --config FILE} of a subcommand that has that option by the file's settings. */
    static String[] expandConfig(CommandLine cl, String[] args) {
        if (args.length == 0 || !cl.getSubcommands().containsKey(args[0])) {
            return args;
        }
        CommandLine sub = cl.getSubcommands().get(args[0]);
        if (sub.getCommandSpec().findOption("--config") == null) {
            return args;
        }
        String[] rest = ConfigFile.expand(java.util.Arrays.copyOfRange(args, 1, args.length), sub.getCommandSpec());
        String[] out = new String[rest.length + 1];
        out[0] = args[0];
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }

    /** The command line with every subcommand built in full (tests and the AOT training run). */
    static CommandLine commandLine() {
        return commandLine(null);
    }

    /**
     * The configured command line for {@code request}: the subcommand it names is built in full, the
     * others only by name and description ({@code null} builds all). User errors print one clear
     * message, not a stack trace.
     */
    static CommandLine commandLine(String[] request) {
        String wanted = request == null ? null : named(request);
        var cl = new CommandLine(new Main());
        for (Class<?> type : SUBCOMMANDS) {
            Command c = type.getAnnotation(Command.class);
            if (wanted == null || wanted.equals(c.name())) {
                cl.addSubcommand(new CommandLine(type));
            } else {
                CommandSpec outline = CommandSpec.create().name(c.name());
                outline.usageMessage().description(c.description());
                cl.addSubcommand(c.name(), outline);
            }
        }
        cl.addSubcommand(new CommandLine(CommandLine.HelpCommand.class));
        cl.setOverwrittenOptionsAllowed(true);
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine bad = ex.getCommandLine();
            var err = bad.getErr();
            String msg = ex.getMessage();
            if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
                String first = u.getUnmatched().getFirst();
                if (first.startsWith("--")) {
                    String name = first.contains("=") ? first.substring(0, first.indexOf('=')) : first;
                    msg = "unknown option '" + name + "'" + ConfigFile.suggestion(name, bad.getCommandSpec()).replace("did you mean '", "did you mean '--");
                } else if (!first.startsWith("-") && !bad.getSubcommands().isEmpty() && bad.getCommandSpec().positionalParameters().isEmpty()) {
                    // A word where only a command can stand: a mistyped or missing command.
                    msg = "unknown command '" + first + "'" + Suggestions.closest(first, bad.getSubcommands().keySet());
                }
            }
            String command = bad.getCommandSpec().qualifiedName(); // "cohx", "cohx train", "cohx convert hf-to-cohx"
            err.println(command + ": " + msg);
            err.println("See '" + command + " --help'.");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            if (ex instanceof CohxUserError || ex instanceof io.cohx.pjrt.plugins.PluginException
                    || ex instanceof io.cohx.coh.train.TrainingException || ex instanceof io.cohx.coh.data.DataException
                    || ex instanceof io.cohx.models.config.ConfigException || ex instanceof io.cohx.models.checkpoint.CheckpointException
                    || ex instanceof io.cohx.models.tokenizer.TokenizerException || ex instanceof io.cohx.engine.mesh.MeshException
                    || ex instanceof io.cohx.engine.dist.CoordinationException
                    || ex instanceof io.cohx.pjrt.PjrtException || ex instanceof io.cohx.eval.EvalException
                    || ex instanceof java.io.UncheckedIOException) {
                line.getErr().println("cohx: " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cl;
    }

    /**
     * The subcommand a command line runs, or for {@code help NAME} shows: its first word that is
     * not a flag ({@code cohx} itself has only {@code -h} and {@code -V}, which take no value).
     */
    private static String named(String[] args) {
        int i = 0;
        while (i < args.length && args[i].startsWith("-")) {
            i++;
        }
        if (i < args.length && args[i].equals("help")) {
            i++;
        }
        return i < args.length ? args[i] : "";
    }
}
