package io.cohx.coh.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fast paths of {@code cohx pack} against the general ones they stand in for, on generated
 * tricky input: {@link RecordBatches} splits lines as {@link BufferedReader#readLine()} does at
 * any batch size; {@link DialogueLine} decodes exactly what Jackson decodes (and declines what it
 * cannot); {@link DialogueFormatter} writes the bytes of {@link DialoguePacker} through
 * {@link PyJson}; and a whole run gives the same files, report and log with one-line batches.
 */
class PackFastPathTest {

    @TempDir
    Path tmp;

    /** Pieces dialogues are made of: the separators, Python-only whitespace, escapes, non-ASCII. */
    private static final String[] PIECES = {"Human:", "Assistant:", "\n\nHuman: ", "\n\nAssistant: ", " ", "\n", "\t",
        "\r", "\u000b", "\u001c", "\u0085", "\u00a0", "\u2028", "\u3000", "\u202f", "hello", "How are you?", "\"", "\\",
        "/", "\u0000", "\u001f", "\u007f", "é", "日本", "😀", "\ud800", "\udfff", "Human", "Assistant", ":", "H", "a b",
        "<|eos|>", "[x+y]"};

    private static String dialogue(Random r) {
        var sb = new StringBuilder();
        int n = r.nextInt(14);
        for (int i = 0; i < n; i++) {
            sb.append(PIECES[r.nextInt(PIECES.length)]);
        }
        return sb.toString();
    }

    @Test
    void linesSplitAsBufferedReaderDoesAtAnyBatchSize() throws IOException {
        var r = new Random(1);
        String[] parts = {"a", "bc", "\n", "\r", "\r\n", "\n\r", "é", "😀", " ", "{\"x\": 1}", "\r\r", "\n\n"};
        for (int round = 0; round < 40; round++) {
            var sb = new StringBuilder(round == 0 ? "\ufeff" : "");
            int n = r.nextInt(200);
            for (int i = 0; i < n; i++) {
                sb.append(parts[r.nextInt(parts.length)]);
            }
            byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
            Path plain = Files.write(tmp.resolve("in" + round + ".jsonl"), bytes);
            Path gz = tmp.resolve("in" + round + ".jsonl.gz");
            try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
                out.write(bytes);
            }
            var want = new ArrayList<String>();
            try (var reader = new BufferedReader(new InputStreamReader(Files.newInputStream(plain), StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    want.add(line);
                }
            }
            for (Path file : List.of(plain, gz)) {
                for (int size : new int[] {1, 2, 3, 5, 16, 1 << 20}) {
                    var got = new ArrayList<String>();
                    long expectLine = 1;
                    try (var batches = new RecordBatches(file, size)) {
                        RecordBatches.Batch b;
                        while ((b = batches.next()) != null) {
                            assertEquals(expectLine, b.firstLine, "line numbers run on across batches");
                            for (int i = 0; i < b.count; i++) {
                                got.add(new String(b.data, b.starts[i], b.ends[i] - b.starts[i], StandardCharsets.UTF_8));
                            }
                            expectLine += b.count;
                        }
                    }
                    assertEquals(want, got, file.getFileName() + " in batches of " + size);
                }
            }
        }
    }

    @Test
    void dialogueLineDecodesExactlyWhatJacksonDoes() {
        var r = new Random(2);
        var json = new ObjectMapper();
        var lines = new ArrayList<byte[]>();
        for (int i = 0; i < 3000; i++) {
            var record = new LinkedHashMap<String, String>();
            if (r.nextInt(5) == 0) {
                record.put("id", dialogue(r));
            }
            record.put(r.nextBoolean() ? "chosen" : "rejected", dialogue(r));
            record.put(record.containsKey("chosen") ? "rejected" : "chosen", dialogue(r));
            String text;
            try {
                // Jackson writes non-ASCII raw; PyJson as Python does, all \\uXXXX.
                text = r.nextBoolean() ? json.writeValueAsString(record) : PyJson.toJson(record);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            byte[] valid = text.getBytes(StandardCharsets.UTF_8);
            lines.add(valid);
            lines.add(mutate(valid, r));
        }
        for (String odd : List.of("{\"chosen\": \"a\\/b\\u0041\", \"rejected\": \"\"}", "  {\"chosen\":\"x\",\"rejected\":\"y\"}  ",
                "{\"chosen\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"}", "{\"chosen\": \"a\", \"rejected\": 1}",
                "{\"chosen\": \"a\", \"rejected\": \"b\"} x", "{\"chosen\": \"a\", \"rejected\": \"b\",}", "{}", "[]", "",
                "   ", "\ufeff{\"chosen\": \"a\", \"rejected\": \"b\"}", "{\"chosen\": \"a\"}", "{\"ch\\u006fsen\": \"a\", \"rejected\": \"b\"}",
                "{\"chosen\": \"a\tb\", \"rejected\": \"b\"}", "{\"chosen\": \"\\ud83d\\ude00\\udc00\", \"rejected\": \"\\\\\"}")) {
            lines.add(odd.getBytes(StandardCharsets.UTF_8));
        }
        for (int[] bad : new int[][] {{0xc0, 0x80}, {0xed, 0xa0, 0x80}, {0xf4, 0x90, 0x80, 0x80}, {0xe2, 0x82}, {0xff},
            {0xf0, 0x9f, 0x98}, {0xc3}}) {
            byte[] head = "{\"chosen\": \"x".getBytes(StandardCharsets.UTF_8);
            byte[] tail = "y\", \"rejected\": \"z\"}".getBytes(StandardCharsets.UTF_8);
            byte[] line = Arrays.copyOf(head, head.length + bad.length + tail.length);
            for (int k = 0; k < bad.length; k++) {
                line[head.length + k] = (byte) bad[k];
            }
            System.arraycopy(tail, 0, line, head.length + bad.length, tail.length);
            lines.add(line);
        }
        int accepted = 0;
        var fast = new DialogueLine();
        for (byte[] line : lines) {
            // The general path: the line decoded as the reader always did, then Jackson.
            var parsed = RecordBatches.parse(new String(line, StandardCharsets.UTF_8));
            JsonNode node = parsed.node();
            boolean general = node != null && node.path("chosen").isTextual() && node.path("rejected").isTextual();
            int before = fast.length;
            if (fast.read(line, 0, line.length)) {
                accepted++;
                String desc = new String(line, StandardCharsets.UTF_8);
                assertTrue(general, "accepted only what the general path reads as a dialogue: " + desc);
                assertEquals(node.get("chosen").textValue(), new String(fast.text, fast.chosenFrom, fast.chosenLength), desc);
                assertEquals(node.get("rejected").textValue(), new String(fast.text, fast.rejectedFrom, fast.rejectedLength),
                        desc);
            } else {
                assertEquals(before, fast.length, "a declined line leaves the buffer as it was");
            }
        }
        assertTrue(accepted > 3000, "the fast path takes every well-formed record (" + accepted + ")");
    }

    /** A random small edit: a byte changed, dropped or doubled, or a tail cut off. */
    private static byte[] mutate(byte[] line, Random r) {
        if (line.length == 0) {
            return line;
        }
        int at = r.nextInt(line.length);
        return switch (r.nextInt(4)) {
            case 0 -> {
                byte[] b = line.clone();
                String swaps = "\"\\{}:,u0 \u00ff\u0080";
                b[at] = (byte) swaps.charAt(r.nextInt(swaps.length()));
                yield b;
            }
            case 1 -> {
                byte[] b = new byte[line.length - 1];
                System.arraycopy(line, 0, b, 0, at);
                System.arraycopy(line, at + 1, b, at, line.length - at - 1);
                yield b;
            }
            case 2 -> {
                byte[] b = new byte[line.length + 1];
                System.arraycopy(line, 0, b, 0, at + 1);
                System.arraycopy(line, at, b, at + 1, line.length - at);
                yield b;
            }
            default -> Arrays.copyOf(line, at);
        };
    }

    @Test
    void formatterWritesThePackersBytes() {
        var options = new ArrayList<PackOptions>();
        for (String types : List.of("p", "n", "pn", "np", "p,n,pn,np", "np,p", "p,n,pn,np,aux", "n,aux")) {
            options.add(PackOptions.defaults().withFeedback(types));
        }
        options.add(new PackOptions(FeedbackType.Selection.parse("p,n,pn,np"), "Usér \"q\"", "ok\\", "bad\n😀",
                "mu", "m\"g", "mgb", "h\u00e9", "g", "gb_", 3));
        var r = new Random(3);
        var json = new PyJson();
        var fast = new PyJson();
        var ends = new DialogueFormatter.LineEnds();
        var chosen = new DialogueFormatter.Turns();
        var rejected = new DialogueFormatter.Turns();
        for (PackOptions o : options) {
            var formatter = DialogueFormatter.forOptions(o);
            assertNotNull(formatter, "distinct keys: the fast path applies");
            var packer = new DialoguePacker(o);
            for (int i = 0; i < 400; i++) {
                var record = new ObjectMapper().createObjectNode();
                record.put("chosen", dialogue(r));
                record.put("rejected", i % 7 == 0 ? record.get("chosen").textValue() : dialogue(r));
                json.reset();
                int lines = 0;
                for (CohSequence seq : packer.pack(record, SeededChoice.forRecord(1, "dialogue", "train", i)).sequences()) {
                    json.appendLine(seq.entries());
                    lines++;
                }
                json.forget();
                fast.reset();
                ends.clear();
                chosen.parse(record.get("chosen").textValue());
                rejected.parse(record.get("rejected").textValue());
                formatter.write(chosen, rejected, fast, ends);
                assertEquals(lines, ends.count);
                assertEquals(fast.length(), ends.at[ends.count - 1]);
                assertArrayEquals(Arrays.copyOf(json.bytes(), json.length()), Arrays.copyOf(fast.bytes(), fast.length()),
                        o.feedback().text() + " " + record);
            }
        }
    }

    @Test
    void keysThatCouldCollideTakeTheGeneralPath() {
        var d = PackOptions.defaults();
        for (var o : List.of(
                new PackOptions(d.feedback(), "U", "G", "B", "same", "same", "b", "human", "gpt", "gpt_bad", 1),
                new PackOptions(d.feedback(), "U", "G", "B", "fields", "g", "b", "human", "gpt", "gpt_bad", 1),
                new PackOptions(d.feedback(), "U", "G", "B", "human_0", "g", "b", "human", "gpt", "gpt_bad", 1),
                new PackOptions(d.feedback(), "U", "G", "B", "u", "gpt_bad_3", "b", "human", "gpt", "gpt_bad", 1),
                new PackOptions(d.feedback(), "U", "G", "B", "u", "g", "b", "human", "gpt", "gpt", 1))) {
            assertNull(DialogueFormatter.forOptions(o), o.toString());
        }
        assertNotNull(DialogueFormatter.forOptions(d));
    }

    @Test
    void oneLineBatchesGiveTheSameFilesReportAndLog() throws IOException {
        var r = new Random(4);
        var json = new ObjectMapper();
        Path input = tmp.resolve("hh/train.jsonl.gz");
        Files.createDirectories(input.getParent());
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(input))) {
            for (int i = 0; i < 300; i++) {
                String line = switch (i % 37) {
                    case 5 -> "{\"chosen\": \"broken";
                    case 9 -> "";
                    case 13 -> "{\"chosen\": 1, \"rejected\": \"x\"}";
                    case 17 -> "[1, 2]";
                    default -> json.writeValueAsString(Map.of("chosen", dialogue(r), "rejected", dialogue(r)));
                };
                out.write((line + (i % 3 == 0 ? "\r\n" : "\n")).getBytes(StandardCharsets.UTF_8));
            }
        }
        var inputs = Map.of(FeedbackDataset.DIALOGUE, List.of(new InputFile(input, Split.TRAIN)));
        var options = PackOptions.defaults().withFeedback("p,n,pn,np,aux");
        var logs = new ArrayList<String>();
        var tables = new ArrayList<String>();
        for (int batch : new int[] {RecordBatches.BATCH_BYTES, 1}) {
            var log = new ByteArrayOutputStream();
            var report = new PackJob(new PackJob.Request(List.of(FeedbackDataset.DIALOGUE), inputs, options,
                    tmp.resolve("out" + batch), false, null), new PrintStream(log, true, StandardCharsets.UTF_8))
                    .batchBytes(batch).run();
            logs.add(log.toString(StandardCharsets.UTF_8));
            tables.add(report.table());
        }
        assertEquals(logs.get(0), logs.get(1));
        assertEquals(tables.get(0), tables.get(1));
        assertTrue(logs.get(0).contains("train.jsonl.gz:6: not valid JSON"), logs.get(0));
        assertTrue(logs.get(0).contains("train.jsonl.gz:14: field 'chosen' is number"), logs.get(0));
        List<String> names;
        try (Stream<Path> s = Files.list(tmp.resolve("out" + RecordBatches.BATCH_BYTES))) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(List.of("hh_dialogue_train_p,n,pn,np,aux.jsonl", "train_p,n,pn,np,aux.jsonl",
                "train_p,n,pn,np,aux_shuffled.jsonl"), names);
        for (String name : names) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("out" + RecordBatches.BATCH_BYTES).resolve(name)),
                    Files.readAllBytes(tmp.resolve("out1").resolve(name)), name);
        }
    }
}
