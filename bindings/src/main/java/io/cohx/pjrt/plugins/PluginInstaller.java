package io.cohx.pjrt.plugins;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Fetches pinned plugin wheels with {@code python3 -m pip download} (the ordinary client, by
 * package name), verifies their sha256 against the lock, and installs the library into the cache
 * ({@code ${XDG_CACHE_HOME:-~/.cache}/cohx/plugins/NAME-VERSION/}). Installation is atomic: files
 * are extracted into a hidden staging folder, synced, marked complete, and renamed into place, so
 * an interrupted or corrupt download never leaves a usable-looking plugin. Concurrent installs
 * (threads or processes) are serialized with a file lock.
 */
public final class PluginInstaller {
    /** Written last into a complete plugin folder; its absence means "not installed". */
    public static final String MARKER = "cohx-plugin.properties";

    private final Path root;
    private final String python;

    public PluginInstaller(Path cacheRoot, String python) {
        this.root = cacheRoot;
        this.python = python;
    }

    /** The installer for this user's cache and {@code $COHX_PYTHON} (default {@code python3}). */
    public static PluginInstaller standard() {
        String py = System.getenv("COHX_PYTHON");
        return new PluginInstaller(defaultCacheRoot(), py == null || py.isBlank() ? "python3" : py);
    }

    /** {@code ${XDG_CACHE_HOME:-~/.cache}/cohx/plugins}. */
    public static Path defaultCacheRoot() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("cohx").resolve("plugins");
    }

    public Path cacheRoot() {
        return root;
    }

    /** The installed library of {@code entry}, if a complete install is in the cache. */
    public Optional<Path> installed(PluginLock.Entry entry) {
        Path dir = root.resolve(entry.folderName());
        Path marker = dir.resolve(MARKER);
        Path lib = dir.resolve(entry.libraryFileName());
        if (!Files.isRegularFile(marker) || !Files.isRegularFile(lib)) {
            return Optional.empty();
        }
        try (InputStream in = Files.newInputStream(marker)) {
            var p = new Properties();
            p.load(in);
            long size = Long.parseLong(p.getProperty("library_size", "-1"));
            if (size != Files.size(lib) || !entry.sha256().equals(p.getProperty("wheel_sha256"))) {
                return Optional.empty();
            }
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        return Optional.of(lib);
    }

    /** The header shipped with an installed plugin, if its wheel had one. */
    public Optional<Path> installedHeader(PluginLock.Entry entry) {
        Path h = root.resolve(entry.folderName()).resolve("include").resolve("pjrt_c_api.h");
        return installed(entry).isPresent() && Files.isRegularFile(h) ? Optional.of(h) : Optional.empty();
    }

    /** Installs {@code entry} unless already installed; returns the library path. */
    public Path install(PluginLock.Entry entry, Consumer<String> progress) {
        Optional<Path> have = installed(entry);
        if (have.isPresent()) {
            return have.get();
        }
        try {
            Files.createDirectories(root);
            try (FileChannel lockFile = FileChannel.open(root.resolve(".install.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock _ = lockFile.lock()) {
                have = installed(entry); // another process may have finished meanwhile
                if (have.isPresent()) {
                    return have.get();
                }
                return installLocked(entry, progress);
            }
        } catch (IOException e) {
            throw new PluginException("installing plugin " + entry.name() + " into " + root + " failed: " + e.getMessage(), e);
        }
    }

    private Path installLocked(PluginLock.Entry entry, Consumer<String> progress) throws IOException {
        cleanStaleStaging();
        Path download = Files.createTempDirectory(root, ".download-" + entry.name() + "-");
        Path staging = Files.createTempDirectory(root, ".staging-" + entry.folderName() + "-");
        try {
            progress.accept("fetching " + entry.pkg() + "==" + entry.version() + " with pip (" + entry.wheel() + ")");
            Path wheel = pipDownload(entry, download);
            progress.accept("verifying sha256 of " + wheel.getFileName());
            verify(entry, wheel);
            progress.accept("extracting " + entry.library());
            extract(entry, wheel, staging);
            Path target = root.resolve(entry.folderName());
            if (Files.exists(target)) {
                deleteTree(target); // an incomplete or outdated folder: its marker did not check out
            }
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new PluginException("the cache " + root + " does not support atomic renames; set XDG_CACHE_HOME to a local disk", e);
            }
            Path lib = target.resolve(entry.libraryFileName());
            progress.accept("installed " + entry.name() + " " + entry.version() + " at " + lib);
            return lib;
        } finally {
            deleteTree(download);
            deleteTree(staging);
        }
    }

    private Path pipDownload(PluginLock.Entry entry, Path dir) throws IOException {
        var cmd = new ArrayList<>(List.of(python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                "--disable-pip-version-check", "--no-input", "-d", dir.toString()));
        if (entry.python() != null) {
            cmd.addAll(List.of("--python-version", entry.python()));
        }
        if (entry.platform() != null) {
            cmd.addAll(List.of("--platform", entry.platform()));
        }
        cmd.add(entry.pkg() + "==" + entry.version());
        Path log = dir.resolve("pip.log");
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new PluginException("cannot run '" + python + " -m pip': " + e.getMessage() + ". Installing plugins needs Python 3 with pip"
                    + " (set COHX_PYTHON to another interpreter), or fetch the wheel yourself and pass its library with --plugin PATH.", e);
        }
        int rc;
        try {
            rc = p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new PluginException("interrupted while downloading " + entry.pkg() + "; nothing was installed", e);
        }
        if (rc != 0) {
            List<String> lines = Files.readAllLines(log);
            String tail = String.join("\n  ", lines.subList(Math.max(0, lines.size() - 8), lines.size()));
            throw new PluginException("pip could not download " + entry.pkg() + "==" + entry.version() + " (exit " + rc + "):\n  " + tail
                    + "\nCheck the network access to the Python package index, then run `cohx plugins install " + entry.name() + "` again.");
        }
        Path wheel = dir.resolve(entry.wheel());
        if (!Files.isRegularFile(wheel)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.whl")) {
                var got = new ArrayList<String>();
                ds.forEach(x -> got.add(x.getFileName().toString()));
                throw new PluginException("pip fetched " + got + " but the lock pins " + entry.wheel() + "; refusing an unpinned wheel");
            }
        }
        return wheel;
    }

    /** Checks the wheel's sha256 against the lock. */
    static void verify(PluginLock.Entry entry, Path wheel) throws IOException {
        String got = sha256(wheel);
        if (!got.equalsIgnoreCase(entry.sha256())) {
            throw new PluginException("sha256 mismatch for " + wheel.getFileName() + ": expected " + entry.sha256() + ", got " + got
                    + ". The download is corrupt or not the pinned file; nothing was installed. Run the install again; if it"
                    + " persists, the package index serves a different file than native/plugins.lock pins.");
        }
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void extract(PluginLock.Entry entry, Path wheel, Path staging) throws IOException {
        try (ZipFile zip = new ZipFile(wheel.toFile())) {
            ZipEntry lib = zip.getEntry(entry.library());
            if (lib == null) {
                throw new PluginException(wheel.getFileName() + " has no " + entry.library() + " (check 'library' in native/plugins.lock)");
            }
            Path libOut = staging.resolve(entry.libraryFileName());
            copySynced(zip, lib, libOut);
            if (entry.header() != null) {
                ZipEntry h = zip.getEntry(entry.header());
                if (h != null) {
                    Files.createDirectories(staging.resolve("include"));
                    copySynced(zip, h, staging.resolve("include").resolve("pjrt_c_api.h"));
                }
            }
            var marker = new Properties();
            marker.setProperty("name", entry.name());
            marker.setProperty("package", entry.pkg());
            marker.setProperty("version", entry.version());
            marker.setProperty("wheel", entry.wheel());
            marker.setProperty("wheel_sha256", entry.sha256());
            marker.setProperty("library", entry.libraryFileName());
            marker.setProperty("library_size", Long.toString(Files.size(libOut)));
            Path m = staging.resolve(MARKER);
            try (OutputStream out = Files.newOutputStream(m)) {
                marker.store(out, "cohx plugin install; this file is written last");
            }
            fsync(m);
            fsync(staging);
        }
    }

    private static void copySynced(ZipFile zip, ZipEntry e, Path out) throws IOException {
        try (InputStream in = zip.getInputStream(e)) {
            Files.copy(in, out);
        }
        fsync(out);
    }

    private static void fsync(Path p) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // Directories cannot be opened for sync on every file system; the rename still orders it.
        }
    }

    /** Leftovers of interrupted installs (hidden staging/download folders). */
    private void cleanStaleStaging() throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, ".*-*")) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (Files.isDirectory(p) && (n.startsWith(".staging-") || n.startsWith(".download-"))) {
                    deleteTree(p);
                }
            }
        }
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(x -> {
                try {
                    Files.deleteIfExists(x);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // Best effort: a leftover hidden folder is ignored by discovery and removed next time.
        }
    }
}
