package io.cohx.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohx.coh.data.FeedbackDataset;
import io.cohx.coh.data.InputFile;
import io.cohx.coh.data.PackJob;
import io.cohx.coh.data.PackOptions;
import io.cohx.coh.data.RecordReader;
import io.cohx.coh.data.InputProblems;
import io.cohx.coh.data.SampleData;
import io.cohx.coh.data.Split;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * Throughput of {@code cohx pack} (records/s) on a generated HH-RLHF-format file, against the
 * reference algorithm in Python ({@code tools/reference/pack_reference.py}) on the same input.
 * Prints one JSON line per measurement. Usage: {@code PackBench [records] [feedback types]}
 * (default 100000 and p,n,pn,np: with aux the output of 100k records is several GB). Every side
 * reads the same gzip file and writes the same files (checked byte for byte).
 *
 * <p>Three measurements: {@code pack_java}, the pack in this JVM once it is warm (one run to
 * compile the hot code first, reported as {@code first_run_seconds}, then the best of five);
 * {@code pack_cli_cold}, the whole {@code cohx pack} command in a fresh JVM each time, start-up,
 * class loading and compiling included (best of three); {@code pack_python_reference}, the
 * Python script (best of three). Each run writes into a fresh folder on a quiet disk: the last
 * run's files are deleted and the disk given a second (on a file system mounted with
 * {@code discard}, deleting ~700 MB issues discards that would otherwise slow whichever run
 * comes next). The Python side processes each record twice
 * (once per output file, as the reference packer did) and does not fsync; the Java side packs
 * each record once and has every file on disk (direct I/O or fsync) before moving it into place.
 * The input cycles the built-in sample dialogues, each copy tagged with its number so no two
 * records are equal. Run from the repository root so the Python script is found.
 */
public final class PackBench {

    private static final int RUNS = 5;
    private static final int PROCESS_RUNS = 3;

    public static void main(String[] args) throws Exception {
        int records = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        String types = args.length > 1 ? args[1] : "p,n,pn,np";
        Path work = Files.createTempDirectory("cohx-packbench-");
        try {
            Path input = work.resolve("in/train.jsonl.gz");
            long bytes = generate(input, records);
            var inputs = Map.of(FeedbackDataset.DIALOGUE, List.of(new InputFile(input, Split.TRAIN)));
            var options = PackOptions.defaults().withFeedback(types);
            var quiet = new PrintStream(new ByteArrayOutputStream());
            double[] javaRuns = new double[RUNS + 1];
            long sequences = 0;
            Path javaOut = work.resolve("java");
            for (int run = 0; run <= RUNS; run++) {
                settle(javaOut);
                long t0 = System.nanoTime();
                var report = new PackJob(new PackJob.Request(List.of(FeedbackDataset.DIALOGUE), inputs, options, javaOut,
                        false, null), quiet).run();
                javaRuns[run] = (System.nanoTime() - t0) / 1e9;
                sequences = report.totalSequences();
            }
            double[] warm = Arrays.copyOfRange(javaRuns, 1, RUNS + 1);
            double best = Arrays.stream(warm).min().orElseThrow();
            long outputBytes = size(javaOut);
            System.out.printf("{\"bench\":\"pack_java\",\"records\":%d,\"input_bytes\":%d,\"feedback\":\"%s\","
                            + "\"sequences\":%d,\"output_bytes\":%d,\"seconds\":%.3f,\"records_per_s\":%.0f,"
                            + "\"run_seconds\":%s,\"first_run_seconds\":%.3f}%n", records, bytes, types, sequences, outputBytes,
                    best, records / best, list(warm), javaRuns[0]);

            // The command as a user runs it: a fresh JVM every time.
            String java = ProcessHandle.current().info().command().orElse("java");
            Path cliOut = work.resolve("cli");
            double[] cliRuns = timeRuns("pack_cli_cold", new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), "io.cohx.cli.Main", "pack", "--offline", "--dataset",
                    "dialogue", "--input", "dialogue.train=" + input, "--include-feedback", types, "--output-dir",
                    cliOut.toString()).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD), cliOut);
            if (cliRuns == null) {
                return;
            }
            double cli = Arrays.stream(cliRuns).min().orElseThrow();
            System.out.printf("{\"bench\":\"pack_cli_cold\",\"records\":%d,\"seconds\":%.3f,\"records_per_s\":%.0f,"
                    + "\"run_seconds\":%s,\"identical_output\":%b}%n", records, cli, records / cli, list(cliRuns),
                    sameFiles(cliOut, javaOut));

            Path script = Path.of("tools/reference/pack_reference.py");
            if (!Files.exists(script)) {
                System.out.println("{\"bench\":\"pack_python\",\"skipped\":\"run from the repository root\"}");
                return;
            }
            Path pyOut = work.resolve("python");
            double[] pyRuns = timeRuns("pack_python", new ProcessBuilder("python3", script.toString(), "--input",
                    "dialogue.train=" + input, "--include-feedback", types, "--output-dir", pyOut.toString()).inheritIO(),
                    pyOut);
            if (pyRuns == null) {
                return;
            }
            double py = Arrays.stream(pyRuns).min().orElseThrow();
            boolean same = sameFiles(pyOut, javaOut);
            System.out.printf("{\"bench\":\"pack_python_reference\",\"records\":%d,\"output_bytes\":%d,\"seconds\":%.3f,"
                    + "\"records_per_s\":%.0f,\"run_seconds\":%s,\"identical_output\":%b}%n", records, size(pyOut), py,
                    records / py, list(pyRuns), same);
            System.out.printf("{\"bench\":\"pack_speedup\",\"warm_java_over_python\":%.1f,"
                    + "\"cold_cli_over_python\":%.1f,\"goal\":20}%n", py / best, py / cli);
        } finally {
            delete(work);
        }
    }

    /**
     * Runs {@code command} {@link #PROCESS_RUNS} times, each into a fresh {@code out}, and returns
     * the wall times; null, with a line saying so, when a run fails.
     */
    private static double[] timeRuns(String bench, ProcessBuilder command, Path out) throws IOException, InterruptedException {
        double[] runs = new double[PROCESS_RUNS];
        for (int run = 0; run < PROCESS_RUNS; run++) {
            settle(out);
            long t0 = System.nanoTime();
            int code = command.start().waitFor();
            runs[run] = (System.nanoTime() - t0) / 1e9;
            if (code != 0) {
                System.out.println("{\"bench\":\"" + bench + "\",\"failed\":" + code + "}");
                return null;
            }
        }
        return runs;
    }

    /** Deletes {@code dir} (the last run's output) and gives the disk a second to settle. */
    private static void settle(Path dir) throws IOException, InterruptedException {
        if (Files.exists(dir)) {
            delete(dir);
            Thread.sleep(1000);
        }
    }

    private static String list(double[] seconds) {
        return Arrays.stream(seconds).mapToObj(x -> String.format("%.3f", x)).collect(Collectors.joining(",", "[", "]"));
    }

    /** Whether both folders hold the same file names with the same bytes. */
    static boolean sameFiles(Path a, Path b) throws IOException {
        List<String> names;
        try (Stream<Path> s = Files.list(a)) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        try (Stream<Path> s = Files.list(b)) {
            if (!names.equals(s.map(p -> p.getFileName().toString()).sorted().toList())) {
                return false;
            }
        }
        for (String name : names) {
            if (Files.mismatch(a.resolve(name), b.resolve(name)) != -1) {
                return false;
            }
        }
        return !names.isEmpty();
    }

    static long size(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            long total = 0;
            for (Path p : s.toList()) {
                total += Files.size(p);
            }
            return total;
        }
    }

    /** Writes {@code n} HH-format records cycling the sample dialogues; returns the file size. */
    static long generate(Path file, int n) throws IOException {
        var sample = new ArrayList<ObjectNode>();
        Path tmp = Files.createTempDirectory("cohx-sample-");
        var files = SampleData.copyTo(tmp);
        RecordReader.read(files.get(0), new InputProblems(true, System.err), (r, line) -> sample.add((ObjectNode) r));
        delete(tmp);
        Files.createDirectories(file.getParent());
        var json = new ObjectMapper();
        try (Writer w = new OutputStreamWriter(new GZIPOutputStream(Files.newOutputStream(file), 1 << 16), StandardCharsets.UTF_8)) {
            for (int i = 0; i < n; i++) {
                ObjectNode r = sample.get(i % sample.size()).deepCopy();
                String tag = " (#" + i + ")";
                r.put("chosen", r.get("chosen").asText().replaceFirst("\n\nAssistant:", tag + "\n\nAssistant:"));
                r.put("rejected", r.get("rejected").asText().replaceFirst("\n\nAssistant:", tag + "\n\nAssistant:"));
                w.write(json.writeValueAsString(r));
                w.write('\n');
            }
        }
        return Files.size(file);
    }

    static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
