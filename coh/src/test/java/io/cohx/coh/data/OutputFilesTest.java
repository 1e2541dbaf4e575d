package io.cohx.coh.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The output files of {@code cohx pack} byte for byte, however they are written: direct or
 * buffered, with lines shorter and longer than a write block, appended in batches of every size,
 * and shuffled from memory or from disk. The expected bytes are built here from the lines alone.
 */
class OutputFilesTest {

    @TempDir
    Path tmp;

    /** Random JSON-ish lines, a few of them longer than several 8 KiB blocks. */
    private static List<byte[]> lines(Random r, int n) {
        var lines = new ArrayList<byte[]>();
        for (int i = 0; i < n; i++) {
            int len = r.nextInt(20) == 0 ? 8192 * (1 + r.nextInt(3)) + r.nextInt(100) : 1 + r.nextInt(600);
            var sb = new StringBuilder("{\"i\": " + i + ", \"t\": \"");
            while (sb.length() < len) {
                sb.append((char) ('a' + r.nextInt(26)));
            }
            lines.add(sb.append("\"}\n").toString().getBytes(StandardCharsets.UTF_8));
        }
        return lines;
    }

    @ParameterizedTest
    @CsvSource({"true, 1000000000", "true, 0", "true, 300000", "false, 1000000000", "false, 0"})
    void filesAndShuffleAreExactlyTheLines(boolean directIo, long keepBudget) throws IOException {
        var r = new Random(7);
        List<byte[]> lines = lines(r, 2000);
        Path out = tmp.resolve("out");
        try (var files = new OutputFiles(out, new OutputFiles.Tuning(directIo, 8192, keepBudget))) {
            var data = files.lines("data.jsonl", false);
            var all = files.lines("all.jsonl", true);
            for (int i = 0; i < lines.size(); ) {
                // Batches of 1 to 40 lines, written to both files from the same bytes.
                int count = Math.min(lines.size() - i, 1 + r.nextInt(40));
                var batch = new ByteArrayOutputStream();
                int[] ends = new int[count];
                for (int k = 0; k < count; k++) {
                    batch.writeBytes(lines.get(i + k));
                    ends[k] = batch.size();
                }
                byte[] bytes = batch.toByteArray();
                data.writeLines(ByteBuffer.wrap(bytes), ends, count);
                all.writeLines(ByteBuffer.wrap(bytes), ends, count);
                files.keep(all, bytes, bytes.length);
                i += count;
            }
            files.finish("data.jsonl");
            assertThrows(IllegalStateException.class, () -> data.writeLines(ByteBuffer.wrap(lines.get(0)),
                    new int[] {lines.get(0).length}, 1), "nothing may be appended to a finished file");
            assertEquals(lines.size(), files.writeShuffled("all.jsonl", "shuffled.jsonl", new SeededChoice("t"), 2));
            files.commit();
        }
        var whole = new ByteArrayOutputStream();
        lines.forEach(whole::writeBytes);
        assertArrayEquals(whole.toByteArray(), Files.readAllBytes(out.resolve("data.jsonl")));
        assertArrayEquals(whole.toByteArray(), Files.readAllBytes(out.resolve("all.jsonl")));
        int[] order = new int[lines.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        new SeededChoice("t").shuffle(order);
        var shuffled = new ByteArrayOutputStream();
        for (int i : order) {
            shuffled.writeBytes(lines.get(i));
        }
        assertArrayEquals(shuffled.toByteArray(), Files.readAllBytes(out.resolve("shuffled.jsonl")));
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(List.of("all.jsonl", "data.jsonl", "shuffled.jsonl"),
                    s.map(p -> p.getFileName().toString()).sorted().toList(), "no staging folder or probe left");
        }
    }

    @Test
    void emptyAndOneByteFilesAreWrittenExactly() throws IOException {
        Path out = tmp.resolve("small");
        try (var files = new OutputFiles(out, new OutputFiles.Tuning(true, 8192, 1 << 20))) {
            files.lines("empty.jsonl", false);
            var one = files.lines("one.jsonl", true);
            one.writeLines(ByteBuffer.wrap(new byte[] {'\n'}), new int[] {1}, 1);
            files.keep(one, new byte[] {'\n'}, 1);
            files.writeShuffled("one.jsonl", "one_shuffled.jsonl", new SeededChoice("s"), 2);
            files.commit();
        }
        assertEquals(0, Files.size(out.resolve("empty.jsonl")));
        assertArrayEquals(new byte[] {'\n'}, Files.readAllBytes(out.resolve("one.jsonl")));
        assertArrayEquals(new byte[] {'\n'}, Files.readAllBytes(out.resolve("one_shuffled.jsonl")));
    }

    @Test
    void closingWithoutCommitLeavesNothing() throws IOException {
        Path out = tmp.resolve("failed");
        try (var files = new OutputFiles(out)) {
            var data = files.lines("data.jsonl", false);
            byte[] line = "{}\n".getBytes(StandardCharsets.UTF_8);
            data.writeLines(ByteBuffer.wrap(line), new int[] {line.length}, 1);
        }
        try (Stream<Path> s = Files.list(out)) {
            assertFalse(s.findAny().isPresent(), "the output folder is as it was: empty");
        }
    }
}
