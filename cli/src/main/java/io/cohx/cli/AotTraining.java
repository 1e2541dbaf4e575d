package io.cohx.cli;

import io.cohx.coh.data.SampleData;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/**
 * The workload the {@code cohx} launcher runs once per build, under
 * {@code -XX:AOTCacheOutput}, to make the JVM's AOT cache (docs/STARTUP.md): the classes it loads
 * and links, and the method profiles it gathers, are what later runs start with. It does what
 * small jobs do: the help of every command, and {@code cohx pack} of the bundled sample feedback
 * with one and with all feedback types, into the folder given as the only argument (the launcher
 * makes and removes it). Output is discarded; a failing step fails the run (exit 1) so that the
 * launcher keeps no cache made from a broken workload.
 */
final class AotTraining {

    private AotTraining() {}

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: AotTraining WORK_DIR");
            System.exit(2);
        }
        Path work = Path.of(args[0]);
        PrintStream out = System.out;
        PrintStream err = System.err;
        var sink = new PrintStream(OutputStream.nullOutputStream());
        List<String> failed = new ArrayList<>();
        System.setOut(sink);
        System.setErr(sink);
        try {
            for (List<String> line : helpLines(Main.commandLine(), List.of())) {
                run(line, failed);
            }
            run(List.of("--version"), failed);
            run(List.of("pakc"), failed); // the unknown-command message
            List<Path> samples = SampleData.copyTo(work.resolve("samples"));
            for (String types : List.of("p", "p,n,pn,np,aux")) {
                run(List.of("pack", "--offline", "--dataset", "dialogue",
                        "--input", "dialogue.train=" + samples.get(0), "--input", "dialogue.eval=" + samples.get(1),
                        "--include-feedback", types, "--output-dir", work.resolve("pack-" + types.length()).toString()),
                        failed);
            }
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        if (!failed.isEmpty()) {
            err.println("cohx AOT training: failed: " + String.join("; ", failed));
            System.exit(1);
        }
        // As cohx ends: System.exit looks up a logger for Runtime.exit, about 30 classes that are
        // otherwise read from the JDK's modules at the end of every run.
        System.exit(0);
    }

    /** {@code --help} of {@code cl} and of each of its subcommands, at any depth. */
    private static List<List<String>> helpLines(CommandLine cl, List<String> path) {
        var lines = new ArrayList<List<String>>();
        var help = new ArrayList<>(path);
        help.add("--help");
        lines.add(help);
        cl.getSubcommands().forEach((name, sub) -> {
            if (!name.equals("help")) {
                var next = new ArrayList<>(path);
                next.add(name);
                lines.addAll(helpLines(sub, next));
            }
        });
        return lines;
    }

    /** Runs one command line as {@code cohx} would; records it when it fails unexpectedly. */
    private static void run(List<String> line, List<String> failed) {
        String[] args = line.toArray(String[]::new);
        int code = Main.run(Main.commandLine(args), args);
        boolean expectedError = line.equals(List.of("pakc"));
        if ((code != 0) != expectedError) {
            failed.add(String.join(" ", line) + " (exit " + code + ")");
        }
    }
}
