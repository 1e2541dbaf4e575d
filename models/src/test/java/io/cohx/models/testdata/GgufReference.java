package io.cohx.models.testdata;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Runs tools/reference/gguf_reference.py with the pinned {@code gguf} package, in a virtual
 * environment the tests make themselves under the cohx cache
 * ({@code test-data/venvs/gguf-<hash of requirements-gguf.txt>}), so a GGUF file cohx wrote is
 * checked by an independent reader. Needs python3 with venv and pip, as the other test-data fetches do.
 */
public final class GgufReference {
    private GgufReference() {}

    /** The repository root (where tools/ is), found from the test's working directory. */
    public static Path repoRoot() {
        Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (p != null && !Files.isRegularFile(p.resolve("tools/reference/gguf_reference.py"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("tools/reference/gguf_reference.py not found above " + System.getProperty("user.dir"));
        }
        return p;
    }

    /** Runs the script with {@code args}; returns its output, or throws with it when it fails. */
    public static String run(String... args) {
        Path root = repoRoot();
        Path python = venv(root.resolve("tools/reference/requirements-gguf.txt"));
        var cmd = new ArrayList<>(List.of(python.toString(), root.resolve("tools/reference/gguf_reference.py").toString()));
        cmd.addAll(List.of(args));
        return exec(cmd, "gguf_reference.py");
    }

    private static synchronized Path venv(Path requirements) {
        try {
            String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(requirements)))
                    .substring(0, 12);
            Path dir = TestModels.cacheDir().resolve("venvs/gguf-" + hash);
            Path python = dir.resolve("bin/python");
            if (Files.isRegularFile(dir.resolve(".complete"))) {
                return python;
            }
            Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp-" + ProcessHandle.current().pid());
            Files.createDirectories(tmp.getParent());
            exec(List.of("python3", "-m", "venv", tmp.toString()), "python3 -m venv");
            exec(List.of(tmp.resolve("bin/python").toString(), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "-r", requirements.toString()), "pip install -r " + requirements);
            // Built aside and renamed into place, so a half-made venv is never used; bin/python keeps
            // working after the move (only console-script shebangs name the old path, and none is used).
            Files.writeString(tmp.resolve(".complete"), requirements + "\n");
            try {
                Files.move(tmp, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                deleteTree(tmp); // another test JVM finished first
                if (!Files.isRegularFile(dir.resolve(".complete"))) {
                    throw e;
                }
            }
            return python;
        } catch (IOException e) {
            throw new UncheckedIOException("making the gguf reference venv: " + e.getMessage(), e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String exec(List<String> cmd, String what) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            int rc = p.waitFor();
            if (rc != 0) {
                throw new IllegalStateException(what + " exited " + rc + ": " + out.strip());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(what + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + what, e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }
}
