package io.cohx.coh.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The files of one {@code cohx pack} run, written all-or-nothing: every file goes into a hidden
 * staging folder inside the output folder and is moved into place (atomically, one by one) only
 * after all of them are complete and synced; {@link #close()} without {@link #commit()} removes
 * the staging folder, so a failed run leaves the output folder as it was.
 */
final class OutputFiles implements AutoCloseable {

    /** One JSON-lines file being written; remembers where each line starts when asked to. */
    static final class Lines implements AutoCloseable {
        final String name;
        private final FileChannel channel;
        private final ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
        private long position;
        private long lines;
        private long[] offsets;

        Lines(String name, Path file, boolean keepOffsets) throws IOException {
            this.name = name;
            this.channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            this.offsets = keepOffsets ? new long[1024] : null;
        }

        /** Appends bytes {@code [0, len)} of {@code line}, which must be one line ending with a newline. */
        void write(byte[] line, int len) throws IOException {
            write(line, 0, len);
        }

        /** Appends bytes {@code [from, from + len)} of {@code line}: one line ending with a newline. */
        void write(byte[] line, int from, int len) throws IOException {
            if (offsets != null) {
                if (lines == offsets.length) {
                    offsets = Arrays.copyOf(offsets, offsets.length * 2);
                }
                offsets[(int) lines] = position;
            }
            lines++;
            position += len;
            int off = from;
            int end = from + len;
            while (off < end) {
                int n = Math.min(buffer.remaining(), end - off);
                buffer.put(line, off, n);
                off += n;
                if (!buffer.hasRemaining()) {
                    flush();
                }
            }
        }

        long lines() {
            return lines;
        }

        private void flush() throws IOException {
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            buffer.clear();
        }

        @Override
        public void close() throws IOException {
            if (channel.isOpen()) {
                flush();
                channel.force(true);
                channel.close();
            }
        }
    }

    private final Path outputDir;
    private final Path staging;
    private final Map<String, Lines> open = new LinkedHashMap<>();
    private final List<String> finished = new ArrayList<>();
    private boolean committed;

    OutputFiles(Path outputDir) throws IOException {
        this.outputDir = outputDir;
        Files.createDirectories(outputDir);
        this.staging = Files.createTempDirectory(outputDir, ".cohx-pack-");
    }

    /** The file {@code name} (created on first use). */
    Lines lines(String name, boolean keepOffsets) throws IOException {
        Lines l = open.get(name);
        if (l == null) {
            l = new Lines(name, staging.resolve(name), keepOffsets);
            open.put(name, l);
        }
        return l;
    }

    boolean has(String name) {
        return open.containsKey(name);
    }

    /**
     * Writes {@code name} as the concatenation of the finished files {@code parts} (a kernel-side
     * copy; the combined file of all datasets is exactly that) and remembers its line offsets.
     */
    long concat(String name, List<String> parts) throws IOException {
        Path target = staging.resolve(name);
        var combined = new Lines(name, target, false);
        combined.channel.close();
        long total = 0;
        for (String part : parts) {
            total += open.get(part).lines;
        }
        combined.offsets = new long[Math.toIntExact(Math.max(total, 1))];
        try (var out = FileChannel.open(target, StandardOpenOption.WRITE)) {
            for (String part : parts) {
                Lines l = open.get(part);
                l.close();
                System.arraycopy(l.offsets, 0, combined.offsets, (int) combined.lines, (int) l.lines);
                for (int i = 0; i < l.lines; i++) {
                    combined.offsets[(int) combined.lines + i] += combined.position;
                }
                try (var in = FileChannel.open(staging.resolve(part), StandardOpenOption.READ)) {
                    long done = 0;
                    while (done < l.position) {
                        done += in.transferTo(done, l.position - done, out);
                    }
                }
                combined.lines += l.lines;
                combined.position += l.position;
            }
            out.force(true);
        }
        open.put(name, combined);
        return combined.lines;
    }

    /**
     * Writes {@code shuffledName}: the lines of the (finished) file {@code name} in the order
     * {@code rng} draws. Reads through a memory map so files larger than the heap work.
     */
    long writeShuffled(String name, String shuffledName, SeededChoice rng) throws IOException {
        Lines source = open.get(name);
        source.close();
        int n = Math.toIntExact(source.lines);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        rng.shuffle(order);
        Lines target = lines(shuffledName, false);
        try (var ch = FileChannel.open(staging.resolve(name), StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, Math.max(source.position, 1), arena);
            byte[] buf = new byte[1 << 16];
            for (int i : order) {
                long from = source.offsets[i];
                long to = i + 1 < n ? source.offsets[i + 1] : source.position;
                int len = Math.toIntExact(to - from);
                if (buf.length < len) {
                    buf = new byte[Math.max(len, buf.length * 2)];
                }
                MemorySegment.copy(map, ValueLayout.JAVA_BYTE, from, buf, 0, len);
                target.write(buf, len);
            }
        }
        target.close();
        return n;
    }

    /** Closes (syncs) every file and moves it into the output folder. */
    void commit() throws IOException {
        for (Lines l : open.values()) {
            l.close();
        }
        for (Lines l : open.values()) {
            Files.move(staging.resolve(l.name), outputDir.resolve(l.name), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            finished.add(l.name);
        }
        try (var dir = FileChannel.open(outputDir, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException ignored) {
            // Some file systems cannot sync a directory; the files themselves are synced.
        }
        committed = true;
    }

    @Override
    public void close() {
        for (Lines l : open.values()) {
            try {
                l.close();
            } catch (IOException ignored) {
                // Closing after a failure; the staging folder is deleted below anyway.
            }
        }
        try (Stream<Path> walk = Files.walk(staging)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            if (!committed) {
                throw new UncheckedIOException("cannot remove the staging folder " + staging, e);
            }
        }
    }
}
