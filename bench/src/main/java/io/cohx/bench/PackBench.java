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
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * Throughput of {@code cohx pack} (records/s) on a generated HH-RLHF-format file, against the
 * reference algorithm in Python ({@code tools/reference/pack_reference.py}) on the same input.
 * Prints one JSON line per measurement. Usage: {@code PackBench [records] [feedback types]}
 * (default 100000 and p,n,pn,np: with aux the output of 100k records is several GB).
 * The input cycles the built-in sample dialogues, each copy tagged with its number so no two
 * records are equal. Run from the repository root so the Python script is found.
 */
public final class PackBench {

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
            double best = Double.MAX_VALUE;
            long sequences = 0;
            for (int run = 0; run < 3; run++) {
                Path out = work.resolve("java-" + run);
                long t0 = System.nanoTime();
                var report = new PackJob(new PackJob.Request(List.of(FeedbackDataset.DIALOGUE), inputs, options, out, false,
                        null), quiet).run();
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                sequences = report.totalSequences();
                delete(out);
            }
            System.out.printf("{\"bench\":\"pack_java\",\"records\":%d,\"input_bytes\":%d,\"feedback\":\"%s\","
                            + "\"sequences\":%d,\"seconds\":%.3f,\"records_per_s\":%.0f,\"runs\":3}%n",
                    records, bytes, types, sequences, best, records / best);

            Path script = Path.of("tools/reference/pack_reference.py");
            if (!Files.exists(script)) {
                System.out.println("{\"bench\":\"pack_python\",\"skipped\":\"run from the repository root\"}");
                return;
            }
            Path out = work.resolve("python");
            long t0 = System.nanoTime();
            var p = new ProcessBuilder("python3", script.toString(), "--input", "dialogue.train=" + input,
                    "--include-feedback", types, "--output-dir", out.toString()).inheritIO().start();
            int code = p.waitFor();
            double py = (System.nanoTime() - t0) / 1e9;
            if (code != 0) {
                System.out.println("{\"bench\":\"pack_python\",\"failed\":" + code + "}");
                return;
            }
            new PackJob(new PackJob.Request(List.of(FeedbackDataset.DIALOGUE), inputs, options, work.resolve("check"),
                    false, null), quiet).run();
            boolean same = Files.mismatch(out.resolve("train_" + types + "_shuffled.jsonl"),
                    work.resolve("check").resolve("train_" + types + "_shuffled.jsonl")) == -1;
            System.out.printf("{\"bench\":\"pack_python_reference\",\"records\":%d,\"seconds\":%.3f,\"records_per_s\":%.0f,"
                    + "\"identical_output\":%b}%n", records, py, records / py, same);
            System.out.printf("{\"bench\":\"pack_speedup\",\"java_over_python\":%.1f,\"goal\":20}%n", py / best);
        } finally {
            delete(work);
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
