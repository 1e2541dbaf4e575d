package io.cohx.coh.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Golden tests of {@code cohx pack}: the fixture records of every dataset, packed with several
 * feedback selections, must give byte-identical files to tools/reference/pack_reference.py
 * (see src/test/resources/pack/README.md), plus the bad-input rules of the issue.
 */
class PackJobTest {

    @TempDir
    Path tmp;

    static Path resource(String name) {
        try {
            return Path.of(PackJobTest.class.getResource("/pack/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<FeedbackDataset, List<InputFile>> fixtures() {
        var inputs = new EnumMap<FeedbackDataset, List<InputFile>>(FeedbackDataset.class);
        for (var d : FeedbackDataset.values()) {
            inputs.put(d, InputFile.resolve(d, resource("fixtures/" + d.cliName()), null));
        }
        return inputs;
    }

    private PackReport pack(Map<FeedbackDataset, List<InputFile>> inputs, PackOptions options, Path out, boolean strict,
                            ByteArrayOutputStream log) {
        var request = new PackJob.Request(List.copyOf(inputs.keySet()), inputs, options, out, strict, null);
        return new PackJob(request, new PrintStream(log, true, StandardCharsets.UTF_8)).run();
    }

    @ParameterizedTest
    @CsvSource({"all-aux, 'p,n,pn,np,aux', 42", "plain, 'p,n,pn,np', 7", "pn-only, pn, 42"})
    void packedFilesEqualTheReferenceRules(String golden, String feedback, long seed) throws IOException {
        Path out = tmp.resolve("out");
        var report = pack(fixtures(), PackOptions.defaults().withFeedback(feedback).withSeed(seed), out, false,
                new ByteArrayOutputStream());
        Path expected = resource("expected/" + golden);
        List<String> want = names(expected);
        assertEquals(want, names(out), "the same set of files, and no staging leftovers");
        for (String name : want) {
            assertArrayEquals(Files.readAllBytes(expected.resolve(name)), Files.readAllBytes(out.resolve(name)), name);
        }
        assertEquals(1, report.get(FeedbackDataset.WEBGPT, Split.TRAIN).skipped().get("tie (score_0 == score_1)"));
        assertEquals(4, report.get(FeedbackDataset.WEBGPT, Split.TRAIN).records());
        assertEquals(2, report.get(FeedbackDataset.SUMMARY, Split.EVAL).records(), "valid1 and valid2 records");
    }

    /**
     * Batches of one line (one array element) each: record numbers, and with them the seeded
     * task phrases of webgpt and summary, must still be those of a one-by-one run.
     */
    @ParameterizedTest
    @CsvSource({"all-aux, 'p,n,pn,np,aux', 42", "plain, 'p,n,pn,np', 7"})
    void oneRecordBatchesGiveTheGoldenFilesToo(String golden, String feedback, long seed) throws IOException {
        Path out = tmp.resolve("tiny");
        var inputs = fixtures();
        var request = new PackJob.Request(List.copyOf(inputs.keySet()), inputs,
                PackOptions.defaults().withFeedback(feedback).withSeed(seed), out, false, null);
        new PackJob(request, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).batchBytes(1).run();
        Path expected = resource("expected/" + golden);
        for (String name : names(expected)) {
            assertArrayEquals(Files.readAllBytes(expected.resolve(name)), Files.readAllBytes(out.resolve(name)), name);
        }
    }

    /**
     * Every way of writing the files must give the golden files: direct or buffered I/O, with
     * writes of two 4 KiB blocks (so lines straddle blocks and the last block is padded and cut
     * back), and the shuffle reading the combined files from memory, from disk, or from memory
     * until the budget ran out part way.
     */
    @ParameterizedTest
    @CsvSource({"true, 1000000000, 1", "true, 0, 1", "true, 20000, 1", "false, 1000000000, 1", "false, 0, 1",
                "true, 1000000000, 1048576", "false, 20000, 1048576"})
    void everyWayOfWritingGivesTheGoldenFiles(boolean directIo, long keepBudget, int batchBytes) throws IOException {
        Path out = tmp.resolve("written");
        var inputs = fixtures();
        var request = new PackJob.Request(List.copyOf(inputs.keySet()), inputs,
                PackOptions.defaults().withFeedback("p,n,pn,np,aux").withSeed(42), out, false, null);
        new PackJob(request, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
                .batchBytes(batchBytes).tuning(new OutputFiles.Tuning(directIo, 8192, keepBudget)).run();
        Path expected = resource("expected/all-aux");
        assertEquals(names(expected), names(out));
        for (String name : names(expected)) {
            assertArrayEquals(Files.readAllBytes(expected.resolve(name)), Files.readAllBytes(out.resolve(name)), name);
        }
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void seedChangesTheShuffleButTheShuffledFileHoldsTheSameLines() throws IOException {
        var inputs = fixtures();
        pack(inputs, PackOptions.defaults().withFeedback("p,n").withSeed(1), tmp.resolve("a"), false,
                new ByteArrayOutputStream());
        pack(inputs, PackOptions.defaults().withFeedback("p,n").withSeed(2), tmp.resolve("b"), false,
                new ByteArrayOutputStream());
        assertArrayEquals(Files.readAllBytes(tmp.resolve("a/hh_dialogue_train_p,n.jsonl")),
                Files.readAllBytes(tmp.resolve("b/hh_dialogue_train_p,n.jsonl")), "dialogue draws no random choice");
        for (String run : List.of("a", "b")) {
            var ordered = Files.readAllLines(tmp.resolve(run + "/train_p,n.jsonl"));
            var shuffled = Files.readAllLines(tmp.resolve(run + "/train_p,n_shuffled.jsonl"));
            assertTrue(!ordered.equals(shuffled), "shuffled");
            assertEquals(ordered.stream().sorted().toList(), shuffled.stream().sorted().toList(), "same lines");
        }
        var a = Files.readAllLines(tmp.resolve("a/train_p,n_shuffled.jsonl"));
        var b = Files.readAllLines(tmp.resolve("b/train_p,n_shuffled.jsonl"));
        assertTrue(!a.subList(0, 8).equals(b.subList(0, 8)), "another seed, another order");
    }

    @Test
    void malformedLineIsReportedWithFileAndLineAndCounted() throws IOException {
        Path bad = tmp.resolve("train.jsonl");
        var good = Files.readAllLines(resource("fixtures/dialogue/train.jsonl"));
        Files.write(bad, List.of(good.get(0), "{\"chosen\": \"broken", "", good.get(1)));
        var inputs = Map.of(FeedbackDataset.DIALOGUE, InputFile.resolve(FeedbackDataset.DIALOGUE, bad, null));
        var log = new ByteArrayOutputStream();
        var report = pack(inputs, PackOptions.defaults().withFeedback("p"), tmp.resolve("out"), false, log);
        assertEquals(2, report.get(FeedbackDataset.DIALOGUE, Split.TRAIN).records());
        assertTrue(log.toString(StandardCharsets.UTF_8).contains(bad + ":2: not valid JSON"), log.toString());

        var e = assertThrows(DataException.class, () -> pack(inputs, PackOptions.defaults().withFeedback("p"),
                tmp.resolve("strict"), true, new ByteArrayOutputStream()));
        assertTrue(e.getMessage().startsWith(bad + ":2: not valid JSON"), e.getMessage());
        assertTrue(e.getMessage().contains("--strict"), e.getMessage());
        assertTrue(Files.notExists(tmp.resolve("strict")) || names(tmp.resolve("strict")).isEmpty());
    }

    /** A byte that is not UTF-8 is not quietly turned into U+FFFD: a warning names file:line, --strict stops. */
    @Test
    void invalidUtf8IsReportedWithFileAndLineAndFatalUnderStrict() throws IOException {
        Path bad = tmp.resolve("train.jsonl");
        var good = Files.readAllLines(resource("fixtures/dialogue/train.jsonl"));
        var bytes = new ByteArrayOutputStream();
        bytes.writeBytes((good.get(0) + "\n").getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes("{\"chosen\": \"\\n\\nHuman: caf".getBytes(StandardCharsets.UTF_8));
        bytes.write(0xE9); // Latin-1 é: not UTF-8
        bytes.writeBytes("\", \"rejected\": \"x\"}\n".getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes((good.get(1) + "\n").getBytes(StandardCharsets.UTF_8));
        Files.write(bad, bytes.toByteArray());
        var inputs = Map.of(FeedbackDataset.DIALOGUE, InputFile.resolve(FeedbackDataset.DIALOGUE, bad, null));
        var log = new ByteArrayOutputStream();
        var report = pack(inputs, PackOptions.defaults().withFeedback("p"), tmp.resolve("out"), false, log);
        assertEquals(2, report.get(FeedbackDataset.DIALOGUE, Split.TRAIN).records(), "the bad line is skipped");
        assertTrue(log.toString(StandardCharsets.UTF_8).contains(bad + ":2: byte 0xE9 at column 27 is not valid UTF-8"),
                log.toString(StandardCharsets.UTF_8));
        for (String line : Files.readAllLines(tmp.resolve("out").resolve(PackJob.trainFile("p")))) {
            assertTrue(!line.contains("\uFFFD") && !line.contains("\\ufffd"), "no replacement character reaches the output: " + line);
        }

        var e = assertThrows(DataException.class, () -> pack(inputs, PackOptions.defaults().withFeedback("p"),
                tmp.resolve("strict"), true, new ByteArrayOutputStream()));
        assertTrue(e.getMessage().startsWith(bad + ":2: byte 0xE9 at column 27 is not valid UTF-8"), e.getMessage());
        assertTrue(e.getMessage().contains("--strict"), e.getMessage());
    }

    /** A run without eval input into a folder that holds an earlier run's eval files leaves only its own files. */
    @Test
    void aRunWithoutEvalInputRemovesTheEarlierRunsEvalFiles() throws IOException {
        Path out = tmp.resolve("out");
        Path dialogue = resource("fixtures/dialogue");
        pack(Map.of(FeedbackDataset.DIALOGUE, InputFile.resolve(FeedbackDataset.DIALOGUE, dialogue, null)),
                PackOptions.defaults().withFeedback("p"), out, false, new ByteArrayOutputStream());
        assertTrue(names(out).contains(PackJob.evalFile("p")), names(out).toString());
        Files.writeString(out.resolve("notes.txt"), "mine");

        var log = new ByteArrayOutputStream();
        var trainOnly = Map.of(FeedbackDataset.DIALOGUE, InputFile.resolve(FeedbackDataset.DIALOGUE, dialogue.resolve("train.jsonl"), null));
        pack(trainOnly, PackOptions.defaults().withFeedback("p"), out, false, log);
        assertEquals(List.of("hh_dialogue_train_p.jsonl", "notes.txt", "train_p.jsonl", "train_p_shuffled.jsonl"), names(out),
                "this run's files and the user's own, none of the earlier run's eval files");
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("removed " + out.resolve(PackJob.evalFile("p"))),
                log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void missingFieldNamesFieldFileAndLine() throws IOException {
        Path bad = tmp.resolve("train.jsonl");
        var good = Files.readAllLines(resource("fixtures/dialogue/train.jsonl"));
        Files.write(bad, List.of(good.get(0), "{\"chosen\": \"\\n\\nHuman: hi\\n\\nAssistant: hello\"}"));
        var inputs = Map.of(FeedbackDataset.DIALOGUE, InputFile.resolve(FeedbackDataset.DIALOGUE, bad, null));
        var e = assertThrows(DataException.class, () -> pack(inputs, PackOptions.defaults().withFeedback("p"),
                tmp.resolve("out"), true, new ByteArrayOutputStream()));
        assertEquals(bad + ":2: missing field 'rejected'", e.getMessage().substring(0, e.getMessage().indexOf(" (--strict")));
        var report = pack(inputs, PackOptions.defaults().withFeedback("p"), tmp.resolve("lenient"), false,
                new ByteArrayOutputStream());
        assertEquals(1, report.get(FeedbackDataset.DIALOGUE, Split.TRAIN).skipped().get("bad field 'rejected'"));
    }

    @Test
    void failureLeavesTheOutputFolderAsItWas() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(out.resolve("keep.txt"), "mine");
        Path notDialogue = resource("fixtures/webgpt/comparisons.jsonl");
        var inputs = new EnumMap<FeedbackDataset, List<InputFile>>(FeedbackDataset.class);
        inputs.put(FeedbackDataset.WEBGPT, InputFile.resolve(FeedbackDataset.WEBGPT, notDialogue, null));
        inputs.put(FeedbackDataset.DIALOGUE, List.of(new InputFile(notDialogue, Split.TRAIN)));
        var e = assertThrows(DataException.class, () -> pack(inputs, PackOptions.defaults().withFeedback("p"), out, false,
                new ByteArrayOutputStream()));
        assertTrue(e.getMessage().startsWith("dialogue: no training sequences from 4 records"), e.getMessage());
        assertEquals(List.of("keep.txt"), names(out), "no half-written files, no staging folder");
    }

    /** A read error (here a gzip file cut short) stops the run naming the file; nothing is left behind. */
    @Test
    void truncatedInputNamesTheFileAndLeavesNothing() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("cut"));
        Files.writeString(out.resolve("keep.txt"), "mine");
        Path whole = tmp.resolve("whole.jsonl.gz");
        try (var gz = new java.util.zip.GZIPOutputStream(Files.newOutputStream(whole))) {
            byte[] line = Files.readString(resource("fixtures/dialogue/train.jsonl")).lines().findFirst().orElseThrow()
                    .concat("\n").getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < 5000; i++) {
                gz.write(line);
            }
        }
        byte[] bytes = Files.readAllBytes(whole);
        Path cut = tmp.resolve("train.jsonl.gz");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length * 2 / 3));
        var inputs = new EnumMap<FeedbackDataset, List<InputFile>>(FeedbackDataset.class);
        inputs.put(FeedbackDataset.DIALOGUE, List.of(new InputFile(cut, Split.TRAIN)));
        var e = assertThrows(DataException.class, () -> pack(inputs, PackOptions.defaults().withFeedback("p,n"), out,
                false, new ByteArrayOutputStream()));
        assertTrue(e.getMessage().startsWith("cannot read " + cut + ": "), e.getMessage());
        assertEquals(List.of("keep.txt"), names(out), "no half-written files, no staging folder");
    }

    @Test
    void auxAloneAndUnknownTypesAreRejected() {
        var e = assertThrows(DataException.class, () -> FeedbackType.Selection.parse("aux"));
        assertTrue(e.getMessage().contains("--include-feedback 'aux' selects no sequence type"), e.getMessage());
        e = assertThrows(DataException.class, () -> FeedbackType.Selection.parse("p,x"));
        assertTrue(e.getMessage().contains("unknown feedback type 'x'"), e.getMessage());
    }

    @Test
    void folderFileWithoutSplitInItsNameIsAnError() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("hh"));
        Files.copy(resource("fixtures/dialogue/train.jsonl"), dir.resolve("part-0.jsonl"));
        var e = assertThrows(DataException.class, () -> InputFile.resolve(FeedbackDataset.DIALOGUE, dir, null));
        assertTrue(e.getMessage().contains("--input dialogue.train="), e.getMessage());
        assertEquals(Split.TRAIN, InputFile.resolve(FeedbackDataset.DIALOGUE, dir, Split.TRAIN).getFirst().split());
    }
}
