package io.cohx.coh.data;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The files of one {@code cohx pack} run, written all-or-nothing: every file goes into a hidden
 * staging folder inside the output folder and is moved into place (atomically, one by one) only
 * after all of them are complete and synced; {@link #close()} without {@link #commit()} removes
 * the staging folder, so a failed run leaves the output folder as it was. A shutdown hook
 * removes it too when the JVM is stopped (Ctrl-C, SIGTERM); the folder names its owner process,
 * so the next run into the same output folder removes those of runs killed outright.
 *
 * <p>Each file is synced exactly once, but as soon as it is complete ({@link #finish}) and on a
 * background thread, so the disk writes back one file while the next is still being produced;
 * {@link #commit()} waits for all of them before the first rename.
 *
 * <p>Files are written with direct I/O where the file system allows it: the bytes go from our
 * buffers to the disk without passing through the page cache, which on Linux costs the CPU a
 * fraction of a buffered write plus its later writeback (the pack is CPU-bound on small
 * machines), lets the disk work while the lines are made (the writes run in the background,
 * {@link #IN_FLIGHT} per file), makes the final syncs short, and leaves the page cache to the
 * user's other work. Direct I/O needs whole, aligned blocks: each file is written in blocks of
 * {@link #BLOCK} bytes from aligned buffers, its last block padded, and the file cut back to its
 * length before the sync. Where the file system refuses it (tmpfs on older kernels, some network
 * file systems) every file is buffered; the files are the same either way.
 *
 * <p>The shuffle reads the combined files back in random order. Their bytes are kept in memory
 * as they are written ({@link #keep}), up to a quarter of the heap; a file that did not fit is
 * shuffled from the file itself, memory-mapped.
 */
final class OutputFiles implements AutoCloseable {

    /** Bytes per write; a multiple of every block size that direct I/O is used with. */
    static final int BLOCK = 4 << 20;

    /** Direct writes of one file in flight at once (each holds a buffer). */
    private static final int IN_FLIGHT = 3;

    /** The JDK's direct I/O open option, or null where this JDK has none. */
    private static final OpenOption DIRECT = directOption();

    /** One JSON-lines file being written; remembers where each line starts when asked to. */
    static final class Lines {
        final String name;
        private final FileChannel channel;
        /** The block size direct writes are aligned to, or 0 for buffered writes. */
        private final int align;
        /** Bytes per write (a multiple of {@link #align}). */
        private final int block;
        private ByteBuffer buffer;
        /** Runs direct writes, so the thread that fills the buffers does not wait for the disk. */
        private final ExecutorService io;
        /** Direct writes in flight, oldest first; each gives its buffer back when done. */
        private final ArrayDeque<Future<ByteBuffer>> inFlight = new ArrayDeque<>();
        /** Buffers a direct file fills and writes in turn. */
        private int buffers = 1;
        /** Bytes appended (the file's length once finished). */
        private long position;
        /** Bytes handed to the channel: with direct I/O, whole blocks and at the end the padded last one. */
        private long written;
        private long lines;
        private long[] offsets;
        private Future<?> sync;
        /**
         * The file's bytes in memory, for its shuffle: chunk {@code c} is {@code kept.get(c)} and
         * starts at byte {@code keptAt[c]} of the file; null once they did not fit.
         */
        private List<byte[]> kept;
        private long[] keptAt;
        /** Where the kept chunks end, and where the last {@link #writeLines} began. */
        private long keptEnd;
        private long lastStart;

        Lines(String name, Path file, boolean keepOffsets, int align, int block, ExecutorService io) throws IOException {
            this.name = name;
            this.align = align;
            this.block = block;
            this.io = io;
            this.channel = align > 0
                    ? FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, DIRECT)
                    : FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            this.buffer = newBuffer(block, align);
            this.offsets = keepOffsets ? new long[1024] : null;
            if (keepOffsets) {
                kept = new ArrayList<>();
                keptAt = new long[16];
            }
        }

        /** The kept chunk that holds byte {@code at} of the file. */
        private int chunkOf(long at) {
            int c = Arrays.binarySearch(keptAt, 0, kept.size(), at);
            return c >= 0 ? c : -c - 2;
        }

        /** Whether this file is written with direct I/O. */
        boolean direct() {
            return align > 0;
        }

        /**
         * Appends {@code count} lines from {@code bytes} (position to limit, which are left as
         * they are, so the same bytes can go to several files): line {@code i} ends (after its
         * newline) at {@code ends[i]} relative to the position.
         */
        void writeLines(ByteBuffer bytes, int[] ends, int count) throws IOException {
            if (buffer == null) {
                throw new IllegalStateException(name + " is finished");
            }
            if (count == 0) {
                return;
            }
            lastStart = position;
            int len = count(ends, count);
            ByteBuffer src = bytes.duplicate();
            src.limit(src.position() + len);
            if (align == 0 && len >= block / 2) {
                flush();
                writeFully(src);
                return;
            }
            while (src.hasRemaining()) {
                if (!buffer.hasRemaining()) {
                    flush();
                }
                int n = Math.min(src.remaining(), buffer.remaining());
                buffer.put(buffer.position(), src, src.position(), n);
                buffer.position(buffer.position() + n);
                src.position(src.position() + n);
            }
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
                written += channel.write(b);
            }
        }

        /**
         * Writes the buffer out; with direct I/O only whole blocks, so only when full or at the
         * end, and in the background: the next buffer is filled meanwhile.
         */
        private void flush() throws IOException {
            flush(true);
        }

        /** {@link #flush()}; without a buffer to go on with unless {@code more}. */
        private void flush(boolean more) throws IOException {
            buffer.flip();
            if (align == 0) {
                writeFully(buffer);
                buffer.clear();
                return;
            }
            ByteBuffer full = buffer;
            long at = written;
            written += full.remaining();
            inFlight.add(io.submit(() -> {
                while (full.hasRemaining()) {
                    channel.write(full, at + full.position());
                }
                return full;
            }));
            if (!more) {
                buffer = null;
            } else if (buffers < IN_FLIGHT) {
                buffers++;
                buffer = newBuffer(block, align);
            } else {
                buffer = awaitValue(inFlight.poll(), name).clear();
            }
        }

        /**
         * Writes what is left (with direct I/O the partial last block padded with zeros to a
         * whole one), waits for the writes in flight, drops the buffers and cuts the file back
         * to its length.
         */
        private void close() throws IOException {
            if (buffer.position() > 0) {
                int len = buffer.position();
                int padded = align > 0 ? (int) roundUp(len, align) : len;
                for (int i = len; i < padded; i++) {
                    buffer.put(i, (byte) 0);
                }
                buffer.position(padded);
                flush(false);
            }
            while (!inFlight.isEmpty()) {
                awaitValue(inFlight.poll(), name);
            }
            buffer = null;
            if (written != position) {
                channel.truncate(position);
            }
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
    /**
     * The direct I/O block size of the staging folder, or 0: buffered writes only; -1 until
     * {@link #alignProbe} is asked, when the first file is made.
     */
    private int align = -1;
    /**
     * Finds {@link #align} on the I/O thread (the probe waits for one write to reach the disk),
     * while the first lines are read and packed.
     */
    private final Future<Integer> alignProbe;
    private final Map<String, Lines> open = new LinkedHashMap<>();
    /** Bytes {@link #keep} may hold in memory, and holds. */
    private final long keepBudget;
    /** Bytes per write. */
    private final int block;
    private long keptBytes;
    /** Runs the syncs, direct writes and shuffle copies: threads that mostly wait for the disk. */
    private final ExecutorService io = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "cohx-pack-io");
        t.setDaemon(true);
        return t;
    });
    private boolean committed;
    /** Staging folders of interrupted runs removed when this one started. */
    private final List<Path> leftovers;
    /** Removes the staging folder if the JVM exits (Ctrl-C, SIGTERM) before {@link #close()}. */
    private final Thread cleanup = new Thread(this::removeStaging, "cohx-pack-cleanup");

    private static final String STAGING_PREFIX = ".cohx-pack-";
    /** The file in a staging folder that names the process writing it: "pid start-millis". */
    private static final String OWNER = ".owner";
    /** A staging folder without an owner file is left alone this long (it may be being made). */
    private static final long UNOWNED_GRACE_MILLIS = 10 * 60 * 1000;

    OutputFiles(Path outputDir) throws IOException {
        this(outputDir, Tuning.DEFAULT);
    }

    /**
     * How the files are written: {@code directIo} where possible (else all buffered), in
     * {@code blockBytes} writes, keeping up to {@code keepBudget} bytes in memory for the
     * shuffle. Only tests change the defaults, to take every path with small files.
     */
    record Tuning(boolean directIo, int blockBytes, long keepBudget) {
        static final Tuning DEFAULT = new Tuning(true, BLOCK, Runtime.getRuntime().maxMemory() / 4);
    }

    OutputFiles(Path outputDir, Tuning tuning) throws IOException {
        this.outputDir = outputDir;
        Files.createDirectories(outputDir);
        this.leftovers = removeLeftovers(outputDir);
        var self = ProcessHandle.current();
        this.staging = newStaging(outputDir, self.pid());
        Files.writeString(staging.resolve(OWNER), self.pid() + " " + startOf(self));
        Runtime.getRuntime().addShutdownHook(cleanup);
        this.block = tuning.blockBytes();
        this.keepBudget = tuning.keepBudget();
        this.alignProbe = tuning.directIo() ? io.submit(() -> {
            int a = directAlignment(staging);
            return a > 0 && block % a == 0 ? a : 0;
        }) : CompletableFuture.completedFuture(0);
    }

    /** {@link #align}, once the probe is done. */
    private int align() throws IOException {
        if (align < 0) {
            align = awaitValue(alignProbe, "the direct I/O probe");
        }
        return align;
    }

    /** Staging folders made by this process, for unique names. */
    private static final AtomicInteger MADE = new AtomicInteger();

    /**
     * Makes a new staging folder in {@code dir}, named after this process and a counter: unique
     * without {@link Files#createTempDirectory}, whose random name seeds a {@code SecureRandom},
     * which took a small {@code cohx pack} 15-30 ms. {@link Files#createDirectory} fails on any
     * existing entry (a symbolic link included); the next name is tried then.
     */
    private static Path newStaging(Path dir, long pid) throws IOException {
        while (true) {
            Path p = dir.resolve(STAGING_PREFIX + pid + "-" + MADE.incrementAndGet());
            try {
                return Files.createDirectory(p);
            } catch (FileAlreadyExistsException e) {
                // A run with the same pid left it (a killed one before this pid was reused): next name.
            }
        }
    }

    /**
     * The file {@code name} (created on first use); {@code keepOffsets} for a file that
     * {@link #writeShuffled} will read: its line offsets are kept, and its bytes where
     * {@link #keep} says so.
     */
    Lines lines(String name, boolean keepOffsets) throws IOException {
        Lines l = open.get(name);
        if (l == null) {
            l = new Lines(name, staging.resolve(name), keepOffsets, align(), block, io);
            open.put(name, l);
        }
        return l;
    }

    /**
     * Keeps a copy of {@code data[0, len)}, the bytes just appended to {@code lines} (a file with
     * offsets kept), in memory, so that its shuffle copies from memory: direct I/O leaves the file
     * out of the page cache. Once the kept bytes of all files would pass the budget, nothing more
     * is kept and what was is let go: those files are shuffled from disk.
     */
    void keep(Lines lines, byte[] data, int len) {
        if (lines.kept == null || len == 0) {
            return;
        }
        if (lines.lastStart != lines.keptEnd || lines.position - lines.lastStart != len) {
            // Bytes were appended without being kept: this file is shuffled from disk.
            lines.kept = null;
            lines.keptAt = null;
            return;
        }
        if (keptBytes + len > keepBudget) {
            for (Lines l : open.values()) {
                l.kept = null;
                l.keptAt = null;
            }
            keptBytes = 0;
            return;
        }
        int c = lines.kept.size();
        if (c == lines.keptAt.length) {
            lines.keptAt = Arrays.copyOf(lines.keptAt, 2 * c);
        }
        lines.keptAt[c] = lines.lastStart;
        lines.kept.add(Arrays.copyOf(data, len));
        lines.keptEnd = lines.position;
        keptBytes += len;
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
        l.close();
        l.sync = io.submit(() -> {
            l.channel.force(true);
            return null;
        });
    }

    /**
     * Writes {@code shuffledName}: the lines of {@code name} (finished here if it is not yet) in
     * the order {@code rng} draws. Reads through a memory map, so files larger than the heap work.
     * The output is cut into blocks of the write size (a line may straddle two) that
     * tasks take one after another, each copying the pieces of lines
     * that fall in its block from the map into its own buffer and writing that at the block's
     * place, so every write is whole and aligned as direct I/O wants. {@code parts} is the number
     * of threads that should copy at once.
     */
    long writeShuffled(String name, String shuffledName, SeededChoice rng, int parts)
            throws IOException {
        finish(name);
        Lines source = open.get(name);
        int n = Math.toIntExact(source.lines);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        rng.shuffle(order);
        // at[j]: where the j-th line of the shuffled file starts.
        long[] at = new long[n + 1];
        for (int j = 0; j < n; j++) {
            at[j + 1] = at[j] + source.end(order[j]) - source.offsets[order[j]];
        }
        long total = at[n];
        Lines target = lines(shuffledName, false);
        int blocks = Math.toIntExact((total + block - 1) / block);
        boolean inMemory = source.kept != null && source.keptEnd == source.position;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment map = null;
            if (!inMemory && total > 0) {
                try (var ch = FileChannel.open(staging.resolve(name), StandardOpenOption.READ)) {
                    map = ch.map(FileChannel.MapMode.READ_ONLY, 0, source.position, arena);
                }
                if (source.direct()) {
                    // Direct I/O left it out of the page cache: read it in once, in order.
                    map.load();
                }
            }
            MemorySegment from = map;
            var next = new AtomicInteger();
            // Twice as many tasks as threads that copy: one copies while another waits for its write.
            int k = Math.max(1, Math.min(2 * parts, blocks));
            var tasks = new ArrayList<Future<?>>(k);
            for (int part = 0; part < k; part++) {
                tasks.add(io.submit(() -> {
                    ByteBuffer buf = newBuffer(block, target.align);
                    for (int b = next.getAndIncrement(); b < blocks; b = next.getAndIncrement()) {
                        writeBlock(from, source, order, at, (long) b * block, target, buf);
                    }
                    return null;
                }));
            }
            for (Future<?> t : tasks) {
                await(t, shuffledName);
            }
        }
        if (source.kept != null) {
            keptBytes -= source.keptEnd;
            source.kept = null;
            source.keptAt = null;
        }
        target.position = total;
        target.lines = n;
        target.written = blocks == 0 ? 0 : roundUp(total, Math.max(1, target.align));
        finish(shuffledName);
        return n;
    }

    /**
     * Fills {@code buf} with bytes {@code [from, from + buf.capacity())} of the shuffled file (fewer for
     * the last block, padded to a whole block with direct I/O) and writes them there. The lines
     * come from {@code map}, the source file mapped, or where that is null from the source's
     * kept chunks.
     */
    private static void writeBlock(MemorySegment map, Lines source, int[] order, long[] at, long from, Lines target,
                                   ByteBuffer buf) throws IOException {
        long to = Math.min(from + buf.capacity(), at[at.length - 1]);
        // The line that holds byte `from`: the last j with at[j] <= from.
        int j = Arrays.binarySearch(at, from);
        if (j < 0) {
            j = -j - 2;
        }
        MemorySegment seg = MemorySegment.ofBuffer(buf.clear());
        for (; j < order.length && at[j] < to; j++) {
            long lo = Math.max(at[j], from);
            long hi = Math.min(at[j + 1], to);
            long src = source.offsets[order[j]] + (lo - at[j]);
            if (map != null) {
                MemorySegment.copy(map, ValueLayout.JAVA_BYTE, src, seg, ValueLayout.JAVA_BYTE, lo - from, hi - lo);
            } else {
                int c = source.chunkOf(src);
                buf.put((int) (lo - from), source.kept.get(c), (int) (src - source.keptAt[c]), (int) (hi - lo));
            }
        }
        int len = (int) (to - from);
        int padded = target.align > 0 ? (int) roundUp(len, target.align) : len;
        for (int i = len; i < padded; i++) {
            buf.put(i, (byte) 0);
        }
        buf.position(0).limit(padded);
        long done = 0;
        while (buf.hasRemaining()) {
            done += target.channel.write(buf, from + done);
        }
    }

    /** A write buffer of {@code size} bytes, aligned to {@code align} when that is not 0. */
    private static ByteBuffer newBuffer(int size, int align) {
        if (align == 0) {
            return ByteBuffer.allocateDirect(size);
        }
        return ByteBuffer.allocateDirect(size + align).alignedSlice(align).limit(size).slice();
    }

    private static long roundUp(long n, int block) {
        return (n + block - 1) / block * block;
    }

    /**
     * The block size to align direct writes in {@code dir} to, or 0 where direct I/O cannot be
     * used there: checked by writing one block to a probe file, since whether the file system
     * takes it is only known by trying.
     */
    private static int directAlignment(Path dir) {
        if (DIRECT == null) {
            return 0;
        }
        Path probe = dir.resolve(".direct-io-probe");
        try {
            long size = Math.max(4096, Files.getFileStore(dir).getBlockSize());
            if (Long.bitCount(size) != 1 || size > BLOCK) {
                return 0;
            }
            int align = (int) size;
            try (var ch = FileChannel.open(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, DIRECT)) {
                ByteBuffer one = newBuffer(align, align);
                while (one.hasRemaining()) {
                    ch.write(one);
                }
            }
            return align;
        } catch (IOException | UnsupportedOperationException e) {
            return 0;
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException ignored) {
                // The staging folder, probe and all, is removed at the end.
            }
        }
    }

    /**
     * The JDK's {@code DIRECT} open option (module jdk.unsupported, present in every JDK this
     * project runs on), looked up by name: naming the class in code draws a proprietary-API
     * warning from javac on every build.
     */
    private static OpenOption directOption() {
        try {
            Class<?> options = Class.forName("com.sun.nio.file.ExtendedOpenOption");
            for (Object o : options.getEnumConstants()) {
                if (((Enum<?>) o).name().equals("DIRECT")) {
                    return (OpenOption) o;
                }
            }
        } catch (ClassNotFoundException | LinkageError e) {
            // No such option in this runtime: buffered writes only.
        }
        return null;
    }

    private static void await(Future<?> task, String name) throws IOException {
        awaitValue(task, name);
    }

    private static <T> T awaitValue(Future<T> task, String name) throws IOException {
        try {
            return task.get();
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

    /** The staging folders of interrupted runs that were removed when this one started. */
    List<Path> leftovers() {
        return leftovers;
    }

    /**
     * Removes the staging folders in {@code dir} that no running process owns: those a run left
     * when it was killed (SIGKILL, a crash, power loss), which no shutdown hook could remove.
     */
    private static List<Path> removeLeftovers(Path dir) throws IOException {
        var removed = new ArrayList<Path>();
        List<Path> candidates;
        try (Stream<Path> s = Files.list(dir)) {
            candidates = s.filter(p -> p.getFileName().toString().startsWith(STAGING_PREFIX) && Files.isDirectory(p))
                    .toList();
        }
        for (Path p : candidates) {
            if (!ownerAlive(p)) {
                delete(p);
                removed.add(p);
            }
        }
        return removed;
    }

    /** Whether the process named in {@code staging}'s owner file still runs (or might: see the grace). */
    private static boolean ownerAlive(Path staging) throws IOException {
        Path owner = staging.resolve(OWNER);
        if (!Files.exists(owner)) {
            long age = System.currentTimeMillis() - Files.getLastModifiedTime(staging).toMillis();
            return age < UNOWNED_GRACE_MILLIS;
        }
        String[] parts = Files.readString(owner).trim().split(" ");
        try {
            long pid = Long.parseLong(parts[0]);
            String start = parts.length > 1 ? parts[1] : "";
            return ProcessHandle.of(pid).map(h -> start.equals("-") || start.equals(startOf(h))).orElse(false);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** When {@code process} started, in epoch milliseconds, or "-" where the OS does not say (a pid alone can be reused). */
    private static String startOf(ProcessHandle process) {
        return process.info().startInstant().map(t -> Long.toString(t.toEpochMilli())).orElse("-");
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Deletes the staging folder (what is left of it after a commit: nothing but the owner file). */
    private synchronized void removeStaging() {
        try {
            alignProbe.get(); // its probe file is in the staging folder until it is done
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            // No probe file is left when it fails.
        }
        try {
            delete(staging);
        } catch (IOException e) {
            if (!committed) {
                throw new UncheckedIOException("cannot remove the staging folder " + staging, e);
            }
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

    /**
     * After {@link #commit()}: deletes those of {@code names} in the output folder that this run
     * did not write (an earlier run's files, which would otherwise sit next to this run's as if
     * they belonged to it); returns the files removed.
     */
    List<Path> removeUnwritten(Collection<String> names) throws IOException {
        if (!committed) {
            throw new IllegalStateException("commit first: until then the earlier files are the output");
        }
        var removed = new ArrayList<Path>();
        for (String name : names) {
            Path p = outputDir.resolve(name);
            if (!open.containsKey(name) && Files.isRegularFile(p)) {
                Files.delete(p);
                removed.add(p);
            }
        }
        return removed;
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
        io.shutdown();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException e) {
            // The JVM is exiting: the hook removes the staging folder.
            return;
        }
        removeStaging();
    }
}
