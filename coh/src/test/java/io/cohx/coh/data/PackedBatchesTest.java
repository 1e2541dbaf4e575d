package io.cohx.coh.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Batches of docs/COH.md#packing on packed sample data and the GPT-2 tokenizer, and resuming them. */
class PackedBatchesTest {

    @TempDir
    Path tmp;

    private List<Path> packed;
    private final PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());

    /** The sample feedback set packed with p,n: one plain file and one gzip copy of a part of it. */
    @BeforeEach
    void pack() throws IOException {
        var inputs = Map.of(FeedbackDataset.DIALOGUE, SampleData.dialogueInputs(tmp.resolve("in")));
        new PackJob(new PackJob.Request(List.of(FeedbackDataset.DIALOGUE), inputs, PackOptions.defaults().withFeedback("p,n"),
                tmp.resolve("packed"), true, null), quiet).run();
        Path train = tmp.resolve("packed/hh_dialogue_train_p,n.jsonl");
        var lines = Files.readAllLines(train);
        Path a = tmp.resolve("a.jsonl");
        Files.write(a, lines.subList(0, 200));
        Path b = tmp.resolve("b.jsonl.gz");
        try (var out = new GZIPOutputStream(Files.newOutputStream(b))) {
            out.write((String.join("\n", lines.subList(200, 260)) + "\n\n").getBytes(StandardCharsets.UTF_8));
        }
        packed = List.of(a, b);
    }

    private PackedBatches batches(PackedBatches.Options options, DataPosition from) {
        return new PackedBatches(packed, new TextProcessor(TextProcessorTest.GPT2, TextProcessor.Config.feedback()), options,
                from, quiet);
    }

    /** The token/mask stream the batches must carve up: every example of every file, in order. */
    private List<TextProcessor.Encoded> examples() throws IOException {
        var tp = new TextProcessor(TextProcessorTest.GPT2, TextProcessor.Config.feedback());
        var out = new ArrayList<TextProcessor.Encoded>();
        for (Path f : packed) {
            RecordReader.read(f, new InputProblems(true, quiet), (r, line) -> out.add(tp.encode(r)));
        }
        return out;
    }

    @Test
    void batchesCutTheExampleStreamInOrderAcrossEpochs() throws IOException {
        var ex = examples();
        int perEpoch = ex.stream().mapToInt(e -> e.tokens().length).sum();
        var stream = new ArrayList<Integer>();
        var maskStream = new ArrayList<Float>();
        var opts = PackedBatches.Options.of(4, 64);
        int batchesNeeded = 2 * perEpoch / (4 * 64) + 2;
        for (int epoch = 0; epoch < 3; epoch++) {
            for (var e : ex) {
                for (int i = 0; i < e.tokens().length; i++) {
                    stream.add(e.tokens()[i]);
                    maskStream.add(e.masks()[i]);
                }
            }
        }
        try (var it = batches(opts, null)) {
            long lastEpoch = 0;
            for (int b = 0; b < batchesNeeded; b++) {
                PackedBatch batch = it.next();
                assertEquals(4 * 64, batch.tokens().length);
                for (int i = 0; i < batch.tokens().length; i++) {
                    assertEquals(stream.get(b * 256 + i), batch.tokens()[i], "token " + i + " of batch " + b);
                    assertEquals(maskStream.get(b * 256 + i), batch.lossMasks()[i], "mask " + i + " of batch " + b);
                }
                assertTrue(batch.epoch() >= lastEpoch);
                lastEpoch = batch.epoch();
            }
            assertEquals(2, lastEpoch, "the data ran into its third epoch");
        }
    }

    @Test
    void resumingFromASavedPositionGivesTheSameNextBatches() throws IOException {
        var opts = PackedBatches.Options.of(2, 160).withSegmentIds(true).withShuffledFiles(11);
        int perEpoch = examples().stream().mapToInt(e -> e.tokens().length).sum() / (2 * 160);
        int total = perEpoch * 5 / 2;
        var uninterrupted = new ArrayList<PackedBatch>();
        try (var it = batches(opts, null)) {
            for (int i = 0; i < total; i++) {
                uninterrupted.add(it.next());
            }
        }
        int[] cuts = {1, perEpoch / 2, perEpoch * 3 / 2};
        assertEquals(1, uninterrupted.get(cuts[2]).epoch(), "one cut lies in the second epoch");
        for (int cut : cuts) {
            String saved;
            try (var first = batches(opts, null)) {
                for (int i = 0; i < cut; i++) {
                    first.next();
                }
                saved = first.position().toJson();
            }
            try (var resumed = batches(opts, DataPosition.fromJson(saved))) {
                for (int i = cut; i < total; i++) {
                    PackedBatch want = uninterrupted.get(i);
                    PackedBatch got = resumed.next();
                    assertArrayEquals(want.tokens(), got.tokens(), "batch " + i + " after resuming at " + cut);
                    assertArrayEquals(want.lossMasks(), got.lossMasks());
                    assertArrayEquals(want.segmentIds(), got.segmentIds());
                    assertEquals(want.epoch(), got.epoch());
                }
            }
        }
    }

    @Test
    void segmentIdsNumberTheExamplesOfEachRow() throws IOException {
        var ex = examples();
        int seq = 128;
        try (var it = batches(PackedBatches.Options.of(1, seq).withSegmentIds(true), null)) {
            PackedBatch b = it.next();
            int pos = 0;
            int expectedId = 1;
            for (var e : ex) {
                for (int i = 0; i < e.tokens().length && pos < seq; i++, pos++) {
                    assertEquals(expectedId, b.segmentIds()[pos], "position " + pos);
                }
                expectedId++;
                if (pos >= seq) {
                    break;
                }
            }
        }
        try (var it = batches(PackedBatches.Options.of(1, seq), null)) {
            assertEquals(null, it.next().segmentIds(), "off by default, as in the reference");
        }
    }

    @Test
    void dataThatCannotFillOneBatchIsAnError() {
        var e = assertThrows(DataException.class, () -> {
            try (var it = batches(PackedBatches.Options.of(64, 4096), null)) {
                it.next();
            }
        });
        assertTrue(e.getMessage().contains("one batch of 64 x 4096 needs more than 262144"), e.getMessage());
    }

    @Test
    void malformedLineIsSkippedOrFatalWithFileAndLine() throws IOException {
        Path bad = tmp.resolve("bad.jsonl");
        var lines = new ArrayList<>(Files.readAllLines(packed.getFirst()));
        lines.add(3, "{not json");
        Files.write(bad, lines);
        var log = new ByteArrayOutputStream();
        var tp = new TextProcessor(TextProcessorTest.GPT2, TextProcessor.Config.feedback());
        try (var it = new PackedBatches(List.of(bad), tp, PackedBatches.Options.of(2, 64), null,
                new PrintStream(log, true, StandardCharsets.UTF_8))) {
            it.next();
            it.next();
            assertEquals(1, it.skippedLines());
        }
        assertTrue(log.toString(StandardCharsets.UTF_8).contains(bad + ":4: not valid JSON"), log.toString());
        var strict = new PackedBatches.Options(2, 64, false, false, 0, true);
        var e = assertThrows(DataException.class, () -> {
            try (var it = new PackedBatches(List.of(bad), tp, strict, null, quiet)) {
                for (int i = 0; i < 10; i++) {
                    it.next();
                }
            }
        });
        assertTrue(e.getMessage().startsWith(bad + ":4: not valid JSON"), e.getMessage());
    }

    @Test
    void pretrainingTextFromAGlobWithItsOwnField() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("pt"));
        Files.write(dir.resolve("part-1.jsonl"), List.of("{\"content\": \"one two three\"}", "{\"content\": \"four\"}"));
        Files.write(dir.resolve("part-2.jsonl"), List.of("{\"content\": \"five six\"}"));
        Files.write(dir.resolve("notes.txt"), List.of("ignored"));
        var files = DataFiles.expand(dir + "/part-*.jsonl");
        assertEquals(List.of(dir.resolve("part-1.jsonl"), dir.resolve("part-2.jsonl")), files);
        var tok = TextProcessorTest.GPT2;
        int eos = tok.eosId();
        var want = new ArrayList<Integer>();
        for (String t : List.of("one two three", "four", "five six")) {
            for (int id : tok.encode(t)) {
                want.add(id);
            }
            want.add(eos);
        }
        try (var it = PackedBatches.pretraining(files, "content", tok, PackedBatches.Options.of(1, 5), quiet)) {
            PackedBatch b = it.next();
            for (int i = 0; i < 5; i++) {
                assertEquals(want.get(i), b.tokens()[i]);
                assertEquals(1f, b.lossMasks()[i]);
            }
        }
        var e = assertThrows(DataException.class, () -> DataFiles.expand(dir + "/none-*.jsonl"));
        assertTrue(e.getMessage().contains("no file matches"), e.getMessage());
    }
}
