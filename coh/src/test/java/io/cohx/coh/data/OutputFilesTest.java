package io.cohx.coh.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
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

    /** The staging folders in {@code dir}. */
    private static List<String> staging(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".cohx-pack-")).sorted().toList();
        }
    }

    /** Starts {@link OutputFilesChild} on {@code out} and returns it once it has written. */
    private static Process child(Path out) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                OutputFilesChild.class.getName(), out.toString()).redirectErrorStream(true).start();
        var reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String first = reader.readLine();
        assertEquals("ready", first, "the child pack started");
        return p;
    }

    /**
     * A pack stopped by SIGTERM (or Ctrl-C) removes its staging folder on the way out; one
     * killed outright leaves it, and the next pack into that folder removes it and says so.
     */
    @Test
    void interruptedRunsLeaveNoStagingBehind() throws Exception {
        Path out = tmp.resolve("interrupted");
        Process term = child(out);
        assertEquals(1, staging(out).size(), "the running pack's staging folder");
        term.toHandle().destroy();
        assertTrue(term.waitFor(60, TimeUnit.SECONDS));
        assertEquals(List.of(), staging(out), "SIGTERM: the shutdown hook removed it");

        Process kill = child(out);
        List<String> left = staging(out);
        kill.toHandle().destroyForcibly();
        assertTrue(kill.waitFor(60, TimeUnit.SECONDS));
        assertEquals(left, staging(out), "SIGKILL: nothing could remove it");
        try (var next = new OutputFiles(out)) {
            assertEquals(List.of(out.resolve(left.getFirst())), next.leftovers());
            assertEquals(1, staging(out).size(), "only the new run's own folder is left");
        }
        assertEquals(List.of(), staging(out));
    }

    /**
     * Which staging folders a new run removes: not a running process's, nor one without an
     * owner file that is younger than the grace period (it may be being made); but one whose
     * owner has exited, whose pid now belongs to a process started at another time, or that has
     * had no owner file for long.
     */
    @Test
    void onlyStagingFoldersOfDeadRunsAreRemoved() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("sweep"));
        var self = ProcessHandle.current();
        String selfStart = self.info().startInstant().map(t -> Long.toString(t.toEpochMilli())).orElse("-");
        Process gone = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-version")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        gone.waitFor();
        Files.writeString(Files.createDirectories(out.resolve(".cohx-pack-live")).resolve(".owner"), self.pid() + " " + selfStart);
        Files.writeString(Files.createDirectories(out.resolve(".cohx-pack-dead")).resolve(".owner"), gone.pid() + " 1");
        Files.writeString(Files.createDirectories(out.resolve(".cohx-pack-dead")).resolve("train.jsonl"), "{}\n");
        Files.createDirectories(out.resolve(".cohx-pack-young"));
        Path old = Files.createDirectories(out.resolve(".cohx-pack-old"));
        Files.setLastModifiedTime(old, FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
        boolean startKnown = !selfStart.equals("-");
        if (startKnown) {
            Files.writeString(Files.createDirectories(out.resolve(".cohx-pack-reused")).resolve(".owner"), self.pid() + " 12345");
        }
        Files.writeString(out.resolve("mine.txt"), "kept");
        try (var files = new OutputFiles(out)) {
            var removed = files.leftovers().stream().map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(startKnown ? List.of(".cohx-pack-dead", ".cohx-pack-old", ".cohx-pack-reused")
                    : List.of(".cohx-pack-dead", ".cohx-pack-old"), removed);
        }
        assertEquals(List.of(".cohx-pack-live", ".cohx-pack-young"), staging(out));
        assertTrue(Files.exists(out.resolve("mine.txt")));
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
