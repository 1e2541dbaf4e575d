package io.cohx.coh.data;

import java.io.IOException;
import java.io.InterruptedIOException;
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
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * The files of one {@code cohx pack} run, written all-or-nothing: every file goes into a hidden
 * staging folder inside the output folder and is moved into place (atomically, one by one) only
 * after all of them are complete and synced; {@link #close()} without {@link #commit()} removes
 * the staging folder, so a failed run leaves the output folder as it was.
 *
 * <p>Each file is synced exactly once, but as soon as it is complete ({@link #finish}) and on a
 * background thread, so the disk writes back one file while the next is still being produced;
 * {@link #commit()} waits for all of them before the first rename.
 */
final class OutputFiles implements AutoCloseable {

    private static final int BUFFER = 1 << 20;

    /** One JSON-lines file being written; remembers where each line starts when asked to. */
    static final class Lines {
        final String name;
        private final FileChannel channel;
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
        private long position;
        private long lines;
        private long[] offsets;
        private Future<?> sync;

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
            writeLines(line, from, new int[] {len}, 1);
        }

        /**
         * Appends {@code count} lines from {@code bytes}: the first starts at {@code from}, line
         * {@code i} ends (after its newline) at {@code from + ends[i]}.
         */
        void writeLines(byte[] bytes, int from, int[] ends, int count) throws IOException {
            if (count == 0) {
                return;
            }
            int len = count(ends, count);
            if (len >= BUFFER / 2) {
                flush();
                writeFully(ByteBuffer.wrap(bytes, from, len));
                return;
            }
            if (len > buffer.remaining()) {
                flush();
            }
            buffer.put(bytes, from, len);
        }

        /**
         * {@link #writeLines(byte[], int, int[], int)} from {@code bytes} (position to limit,
         * which are left as they are): the same bytes can go to several files with no more copies.
         */
        void writeLines(ByteBuffer bytes, int[] ends, int count) throws IOException {
            if (count == 0) {
                return;
            }
            int len = count(ends, count);
            ByteBuffer src = bytes.duplicate();
            src.limit(src.position() + len);
            if (len >= BUFFER / 2) {
                flush();
                writeFully(src);
                return;
            }
            if (len > buffer.remaining()) {
                flush();
            }
            buffer.put(src);
        }

        /** Books {@code count} lines ending at {@code ends} (relative to the current end); returns their length. */
        private int count(int[] ends, int count) {
            if (offsets != null) {
                if (lines + count > offsets.length) {
                    offsets = Arrays.copyOf(offsets, Math.toIntExact(Math.max(offsets.length * 2L, lines + count)));
                }
                int at = (int) lines;
                offsets[at] = position;
                for (int i = 1; i < count; i++) {
                    offsets[at + i] = position + ends[i - 1];
                }
            }
            int len = ends[count - 1];
            lines += count;
            position += len;
            return len;
        }

        long lines() {
            return lines;
        }

        /** Where line {@code i} ends (offsets kept). */
        private long end(int i) {
            return i + 1 < lines ? offsets[i + 1] : position;
        }

        private void writeFully(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                channel.write(b);
            }
        }

        private void flush() throws IOException {
            buffer.flip();
            writeFully(buffer);
            buffer.clear();
        }

        private boolean finished() {
            return sync != null;
        }

        private void awaitSync() throws IOException {
            if (sync == null) {
                return;
            }
            await(sync, name);
        }
    }

    private final Path outputDir;
    private final Path staging;
    private final Map<String, Lines> open = new LinkedHashMap<>();
    private final ExecutorService syncer = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "cohx-pack-sync");
        t.setDaemon(true);
        return t;
    });
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
     * Marks {@code name} complete: writes out its buffer and starts its one fsync in the
     * background. Nothing more may be written to it.
     */
    void finish(String name) throws IOException {
        Lines l = open.get(name);
        if (l.finished()) {
            return;
        }
        l.flush();
        l.sync = syncer.submit(() -> {
            l.channel.force(true);
            return null;
        });
    }

    /**
     * Writes {@code shuffledName}: the lines of {@code name} (finished here if it is not yet) in
     * the order {@code rng} draws. Reads through a memory map, so files larger than the heap work;
     * the output is cut into {@code parts} consecutive ranges that {@code pool} fills at once, each
     * copying its lines from the map into its own buffer and writing that at its file position.
     */
    long writeShuffled(String name, String shuffledName, SeededChoice rng, ExecutorService pool, int parts)
            throws IOException {
        finish(name);
        Lines source = open.get(name);
        int n = Math.toIntExact(source.lines);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        rng.shuffle(order);
        Lines target = lines(shuffledName, false);
        try (var ch = FileChannel.open(staging.resolve(name), StandardOpenOption.READ); Arena arena = Arena.ofShared()) {
            MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, Math.max(source.position, 1), arena);
            int k = Math.max(1, Math.min(parts, n / 4096));
            var tasks = new ArrayList<Future<?>>(k);
            long start = 0;
            for (int part = 0; part < k; part++) {
                int from = (int) ((long) n * part / k);
                int to = (int) ((long) n * (part + 1) / k);
                long at = start;
                for (int j = from; j < to; j++) {
                    start += source.end(order[j]) - source.offsets[order[j]];
                }
                tasks.add(pool.submit(() -> {
                    copyLines(map, source, order, from, to, target.channel, at);
                    return null;
                }));
            }
            for (Future<?> t : tasks) {
                await(t, shuffledName);
            }
            target.position = start;
            target.lines = n;
        }
        finish(shuffledName);
        return n;
    }

    /** Writes lines {@code order[from, to)} of {@code source} (mapped at {@code map}) at {@code position}. */
    private static void copyLines(MemorySegment map, Lines source, int[] order, int from, int to, FileChannel out,
                                  long position) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER);
        MemorySegment seg = MemorySegment.ofBuffer(buf);
        long at = position;
        for (int j = from; j < to; j++) {
            int i = order[j];
            long start = source.offsets[i];
            int len = Math.toIntExact(source.end(i) - start);
            if (len > buf.remaining()) {
                at += writeAt(buf.flip(), out, at);
                buf.clear();
            }
            if (len > buf.remaining()) {
                at += writeAt(map.asSlice(start, len).asByteBuffer(), out, at);
            } else {
                MemorySegment.copy(map, ValueLayout.JAVA_BYTE, start, seg, ValueLayout.JAVA_BYTE, buf.position(), len);
                buf.position(buf.position() + len);
            }
        }
        writeAt(buf.flip(), out, at);
    }

    private static long writeAt(ByteBuffer b, FileChannel out, long position) throws IOException {
        long done = 0;
        while (b.hasRemaining()) {
            done += out.write(b, position + done);
        }
        return done;
    }

    private static void await(Future<?> task, String name) throws IOException {
        try {
            task.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing " + name);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("writing " + name + " failed", e.getCause());
        }
    }

    /** Finishes and syncs every file, then moves each into the output folder. */
    void commit() throws IOException {
        for (Lines l : open.values()) {
            finish(l.name);
        }
        for (Lines l : open.values()) {
            l.awaitSync();
            l.channel.close();
        }
        for (Lines l : open.values()) {
            Files.move(staging.resolve(l.name), outputDir.resolve(l.name), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
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
                l.awaitSync();
            } catch (IOException | RuntimeException ignored) {
                // Closing after a failure; the staging folder is deleted below anyway.
            }
            try {
                l.channel.close();
            } catch (IOException ignored) {
                // As above.
            }
        }
        syncer.shutdown();
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
