package io.cohx.engine;

import io.cohx.pjrt.CompileOptions;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtDevice;
import io.cohx.pjrt.PjrtException;
import io.cohx.pjrt.PjrtLoadedExecutable;
import io.cohx.pjrt.PjrtPlugin;
import io.cohx.pjrt.TensorType;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Compiled programs kept on disk between processes, so that a restart of {@code cohx serve},
 * {@code generate} or {@code train} loads its executables instead of compiling them again.
 * An entry is the plugin's serialized executable, filed under the SHA-256 of everything that
 * decides what XLA would produce: the program text, the compile options, the plugin (file, size,
 * modification time, API and XLA versions), the platform and the device kinds. A new plugin build
 * therefore never sees an old entry; old entries age out.
 *
 * <p>Entries are written to a temporary file, synced and renamed, so concurrent processes see a
 * whole entry or none; two processes compiling the same program both write the same entry. Each
 * entry carries its key, the plugin's description and a checksum of the executable: an entry that
 * is truncated, damaged or was written for another plugin is skipped with a warning (and
 * recompiled), never handed to the plugin. The folder is kept under {@code maxBytes} by removing
 * the least recently used entries (a hit refreshes an entry's modification time).
 *
 * <p>Jit uses the cache {@link #install installed} for the process; the command line installs one
 * unless {@code --no-compile-cache} is given. Thread-safe.
 */
public final class CompileCache {
    /** Environment variable naming the cache folder; {@code off} turns the cache off. */
    public static final String ENV = "COHX_COMPILE_CACHE";
    /** Default size bound: plenty for a handful of models' programs, small next to a checkpoint. */
    public static final long DEFAULT_MAX_BYTES = 2L << 30;

    private static final byte[] MAGIC = "COHXEXE\n".getBytes(StandardCharsets.US_ASCII);
    private static final int FORMAT = 1;
    private static final String SUFFIX = ".xla";
    private static volatile CompileCache installed;

    private final Path dir;
    private final long maxBytes;
    private final Consumer<String> warn;
    private final Map<PjrtClient, String> fingerprints = new ConcurrentHashMap<>();
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();

    private CompileCache(Path dir, long maxBytes, Consumer<String> warn) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("the compile cache's size bound must be positive, got " + maxBytes);
        }
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.warn = warn;
    }

    /** A cache in {@code dir} (created when first written) bounded to {@code maxBytes}; warnings go to {@code warn}. */
    public static CompileCache at(Path dir, long maxBytes, Consumer<String> warn) {
        return new CompileCache(dir, maxBytes, warn);
    }

    /** The folder {@link #ENV} names, else {@code ~/.cache/cohx/compile}; null when {@link #ENV} is {@code off}. */
    public static Path defaultDir() {
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) {
            return env.strip().equalsIgnoreCase("off") ? null : Path.of(env.strip());
        }
        return Path.of(System.getProperty("user.home"), ".cache", "cohx", "compile");
    }

    /** Makes {@code cache} (null: none) the one every {@link Jit} of this process uses. */
    public static void install(CompileCache cache) {
        installed = cache;
    }

    /** The cache in use, or null. */
    public static CompileCache installed() {
        return installed;
    }

    public Path dir() {
        return dir;
    }

    /** Executables loaded from disk by this cache. */
    public long hits() {
        return hits.get();
    }

    /** Lookups that found no usable entry. */
    public long misses() {
        return misses.get();
    }

    /**
     * The executable for {@code mlir} under {@code options}: loaded from the cache when a good
     * entry exists, else compiled by {@code compile} and stored (storing problems only warn).
     */
    PjrtLoadedExecutable getOrCompile(PjrtClient client, String name, String mlir, CompileOptions options,
                                      List<TensorType> parameters, java.util.function.Supplier<PjrtLoadedExecutable> compile) {
        String fingerprint = fingerprint(client);
        String key = key(mlir, options, fingerprint);
        Path file = dir.resolve(key + SUFFIX);
        byte[] payload = read(file, key, fingerprint, name);
        if (payload != null) {
            try {
                PjrtLoadedExecutable exe = client.deserialize(payload, parameters);
                hits.incrementAndGet();
                touch(file);
                return exe;
            } catch (PjrtException e) {
                warn.accept("compile cache: the plugin could not load " + file + " for " + name + " (" + e.getMessage()
                        + "); compiling instead");
            }
        }
        misses.incrementAndGet();
        PjrtLoadedExecutable exe = compile.get();
        byte[] bytes;
        try {
            bytes = exe.serialize();
        } catch (PjrtException e) {
            warn.accept("compile cache: the plugin cannot serialize " + name + " (" + e.getMessage() + "); it is not cached");
            return exe;
        }
        write(file, key, fingerprint, bytes, name);
        return exe;
    }

    /** What identifies the plugin build and the devices an executable is made for. */
    String fingerprint(PjrtClient client) {
        return fingerprints.computeIfAbsent(client, c -> {
            PjrtPlugin p = c.plugin();
            var sb = new StringBuilder();
            sb.append("plugin=").append(p.path());
            try {
                BasicFileAttributes a = Files.readAttributes(p.path(), BasicFileAttributes.class);
                sb.append(" size=").append(a.size()).append(" mtime=").append(a.lastModifiedTime().toMillis());
            } catch (IOException e) {
                sb.append(" size=? mtime=?");
            }
            sb.append(" api=").append(p.majorVersion()).append('.').append(p.minorVersion());
            Map<String, Object> attrs = new TreeMap<>();
            try {
                p.attributes().forEach((k, v) -> attrs.put(k, v instanceof long[] l ? Arrays.toString(l) : String.valueOf(v)));
            } catch (PjrtException e) {
                // Older plugins have no attributes; file and API version still identify them.
            }
            sb.append(" attributes=").append(attrs);
            sb.append(" platform=").append(c.platformName()).append(' ').append(c.platformVersion());
            sb.append(" devices=").append(c.addressableDevices().stream().map(PjrtDevice::kind).toList());
            return sb.toString();
        });
    }

    static String key(String mlir, CompileOptions options, String fingerprint) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(("cohx-compile-cache " + FORMAT + "\n").getBytes(StandardCharsets.UTF_8));
            update(d, mlir.getBytes(StandardCharsets.UTF_8));
            update(d, options.toBytes());
            update(d, fingerprint.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    private static void update(MessageDigest d, byte[] part) {
        d.update(ByteBuffer.allocate(8).putLong(part.length).array());
        d.update(part);
    }

    /** The executable bytes of a good entry, or null (missing, or bad: then a warning says why). */
    private byte[] read(Path file, String key, String fingerprint, String name) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            warn.accept("compile cache: cannot read " + file + " (" + e.getMessage() + "); compiling " + name);
            return null;
        }
        try (var in = new DataInputStream(new java.io.ByteArrayInputStream(all))) {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!Arrays.equals(magic, MAGIC)) {
                warn.accept("compile cache: " + file + " is not a cohx cache entry; ignoring it and compiling " + name);
                return null;
            }
            int format = in.readInt();
            if (format != FORMAT) {
                warn.accept("compile cache: " + file + " has entry format " + format + ", this cohx writes " + FORMAT
                        + "; ignoring it and compiling " + name);
                return null;
            }
            String k = in.readUTF();
            String fp = in.readUTF();
            if (!k.equals(key) || !fp.equals(fingerprint)) {
                warn.accept("compile cache: " + file + " was written for another program or plugin (" + fp
                        + "); ignoring it and compiling " + name);
                return null;
            }
            int n = in.readInt();
            if (n < 0 || n > all.length) {
                throw new EOFException("payload length " + n);
            }
            byte[] payload = in.readNBytes(n);
            byte[] sum = in.readNBytes(32);
            if (payload.length != n || sum.length != 32) {
                throw new EOFException("entry ends early");
            }
            if (!Arrays.equals(sum, sha256(payload))) {
                warn.accept("compile cache: " + file + " is damaged (checksum mismatch); ignoring it and compiling " + name);
                return null;
            }
            return payload;
        } catch (IOException e) {
            warn.accept("compile cache: " + file + " is truncated (" + e.getMessage() + "); ignoring it and compiling " + name);
            return null;
        }
    }

    private void write(Path file, String key, String fingerprint, byte[] payload, String name) {
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            var bytes = new ByteArrayOutputStream(payload.length + 512);
            try (var out = new DataOutputStream(bytes)) {
                out.write(MAGIC);
                out.writeInt(FORMAT);
                out.writeUTF(key);
                out.writeUTF(fingerprint);
                out.writeInt(payload.length);
                out.write(payload);
                out.write(sha256(payload));
            }
            tmp = Files.createTempFile(dir, key, ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes.toByteArray());
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            evict();
        } catch (IOException e) {
            warn.accept("compile cache: cannot write " + file + " (" + e.getMessage() + "); " + name + " is not cached");
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // A stray temporary file is removed by a later eviction.
                }
            }
        }
    }

    private static void touch(Path file) {
        try {
            Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException e) {
            // Another process may have evicted it; recency is only a hint.
        }
    }

    private record Entry(Path path, long size, long modified) {}

    /** Removes least recently used entries until the folder is under the bound, and stale temporary files. */
    void evict() throws IOException {
        List<Entry> entries = new ArrayList<>();
        long total = 0;
        long staleBefore = System.currentTimeMillis() - 3_600_000;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                    if (n.endsWith(".tmp") && a.lastModifiedTime().toMillis() < staleBefore) {
                        Files.deleteIfExists(p); // left by a process that died while writing
                    } else if (n.endsWith(SUFFIX) && a.isRegularFile()) {
                        entries.add(new Entry(p, a.size(), a.lastModifiedTime().toMillis()));
                        total += a.size();
                    }
                } catch (NoSuchFileException e) {
                    // removed meanwhile by another process
                }
            }
        }
        if (total <= maxBytes) {
            return;
        }
        entries.sort(Comparator.comparingLong(Entry::modified));
        for (Entry e : entries) {
            if (total <= maxBytes) {
                break;
            }
            Files.deleteIfExists(e.path());
            total -= e.size();
        }
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    @Override
    public String toString() {
        return "CompileCache[" + dir + ", max " + (maxBytes >> 20) + " MiB]";
    }
}
