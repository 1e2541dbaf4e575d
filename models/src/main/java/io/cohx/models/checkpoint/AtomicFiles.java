package io.cohx.models.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Crash-safe file and folder writes: everything is written under a temporary name next to the
 * target, synced to disk, then renamed into place, so a crash leaves either the old state or the
 * complete new one, never a half-written checkpoint.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** A fresh temporary sibling of {@code target} ({@code .NAME.tmp-RANDOM}), not yet created. */
    public static Path tempSibling(Path target) {
        Path abs = target.toAbsolutePath();
        String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        return abs.resolveSibling("." + abs.getFileName() + ".tmp-" + suffix);
    }

    /** Writes {@code text} (UTF-8) to {@code target} through a synced temporary file. */
    public static void writeString(Path target, String text) {
        Path tmp = tempSibling(target);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            writeFully(ch, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
        moveIntoPlace(tmp, target);
    }

    /**
     * Starts writing folder {@code target}: checks it does not exist (or is empty) and creates a
     * temporary sibling folder to fill; finish with {@link #commitFolder}.
     */
    public static Path beginFolder(Path target) {
        try {
            if (Files.exists(target)) {
                boolean empty;
                try (Stream<Path> s = Files.list(target)) {
                    empty = s.findAny().isEmpty();
                }
                if (!empty) {
                    throw new CheckpointException("output folder " + target + " already exists and is not empty;"
                            + " remove it or choose another path");
                }
            }
            Path tmp = tempSibling(target);
            Files.createDirectories(tmp);
            return tmp;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + target + ": " + e.getMessage(), e);
        }
    }

    /** Syncs the filled temporary folder and renames it to {@code target} (removing an empty target first). */
    public static void commitFolder(Path tmp, Path target) {
        syncDirectory(tmp);
        try {
            Files.deleteIfExists(target); // only an empty folder can be here (beginFolder checked)
        } catch (IOException e) {
            throw new UncheckedIOException("cannot replace " + target + ": " + e.getMessage(), e);
        }
        moveIntoPlace(tmp, target);
    }

    /** Renames {@code tmp} to {@code target} atomically (replacing a file) and syncs the parent folder. */
    public static void moveIntoPlace(Path tmp, Path target) {
        try {
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            syncDirectory(target.toAbsolutePath().getParent());
        } catch (FileAlreadyExistsException e) {
            throw new CheckpointException("cannot replace " + target + ": it exists and is not empty; remove it or"
                    + " choose another output path", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rename " + tmp + " to " + target + ": " + e.getMessage(), e);
        }
    }

    /** Flushes a folder's entries (new names) to disk; a no-op where the OS cannot open folders. */
    public static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // Some file systems refuse to open a directory for reading; the rename is still durable
            // there once the journal commits, which is the best we can do.
        }
    }

    /** Writes all of {@code buf} to {@code ch}. */
    public static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Writes all bytes of {@code seg} to {@code ch}, in pieces a ByteBuffer can address. */
    public static void writeFully(FileChannel ch, MemorySegment seg) throws IOException {
        long chunk = 1L << 26;
        for (long off = 0; off < seg.byteSize(); off += chunk) {
            writeFully(ch, seg.asSlice(off, Math.min(chunk, seg.byteSize() - off)).asByteBuffer());
        }
    }

    /** Deletes a file or a folder tree, ignoring errors (used to clean up temporary output). */
    public static void deleteQuietly(Path p) {
        if (p == null || !Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            walk.sorted(Comparator.reverseOrder()).forEach(q -> {
                try {
                    Files.deleteIfExists(q);
                } catch (IOException ignored) {
                    // best effort: a leftover temp file is harmless and named .tmp-*
                }
            });
        } catch (IOException ignored) {
            // as above
        }
    }
}
