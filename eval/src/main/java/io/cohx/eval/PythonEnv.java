package io.cohx.eval;

import io.cohx.pjrt.plugins.PluginInstaller;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one Python environment cohx uses: a virtual environment with lm-evaluation-harness, made
 * by cohx on first use under {@code ${XDG_CACHE_HOME:-~/.cache}/cohx/python/lm-eval-0.4.13}
 * with {@code python3 -m venv} ({@code $COHX_PYTHON} for another interpreter) and
 * {@code pip install -r} the pinned list bundled in cohx ({@code lm-eval-requirements.txt}).
 * The first install downloads about 200 MB and takes one to a few minutes; later runs reuse it.
 * A marker file holding the list's hash is written last, so an interrupted install (no marker)
 * or a changed list (other hash) is removed and made again.
 */
public final class PythonEnv {
    public static final String LM_EVAL_VERSION = "0.4.13";
    static final String REQUIREMENTS = "lm-eval-requirements.txt";
    static final String MARKER = ".cohx-env-complete";

    private final Path dir;
    private final String python;

    public PythonEnv(Path dir, String python) {
        this.dir = dir;
        this.python = python;
    }

    /** The environment in this user's cohx cache, built with {@code $COHX_PYTHON} or {@code python3}. */
    public static PythonEnv standard() {
        String py = System.getenv("COHX_PYTHON");
        Path cache = PluginInstaller.defaultCacheRoot().getParent();
        return new PythonEnv(cache.resolve("python").resolve("lm-eval-" + LM_EVAL_VERSION), py == null || py.isBlank() ? "python3" : py);
    }

    public Path dir() {
        return dir;
    }

    /** The environment's interpreter (run modules with {@code -m}: it works wherever the folder is). */
    public Path python() {
        return dir.resolve("bin").resolve("python");
    }

    /** Whether a complete environment for the bundled list is there. */
    public boolean ready() {
        try {
            return Files.isExecutable(python()) && Files.readString(dir.resolve(MARKER)).strip().equals(requirementsHash());
        } catch (IOException e) {
            return false;
        }
    }

    /** Makes the environment unless it is ready; pip's output goes to {@code log}. */
    public Path ensure(PrintStream log) {
        if (ready()) {
            return python();
        }
        long t0 = System.nanoTime();
        log.println("cohx eval: installing lm-evaluation-harness " + LM_EVAL_VERSION + " into " + dir
                + " (first use only; about 200 MB, one to a few minutes)");
        try {
            if (Files.exists(dir)) {
                io.cohx.models.checkpoint.AtomicFiles.deleteQuietly(dir);
            }
            Files.createDirectories(dir.getParent());
            run(List.of(python, "-m", "venv", dir.toString()), log, "python3 -m venv failed; install Python 3 with its venv module"
                    + " (Debian: apt-get install python3-venv) or set COHX_PYTHON to an interpreter that has it");
            Path req = dir.resolve(REQUIREMENTS);
            try (InputStream in = requirements()) {
                Files.write(req, in.readAllBytes());
            }
            run(List.of(python().toString(), "-m", "pip", "install", "--no-input", "--disable-pip-version-check", "--progress-bar", "off",
                    "-r", req.toString()), log, "pip could not install lm-evaluation-harness (output above); check the network or"
                    + " the package index settings (pip config list), then run again");
            Files.writeString(dir.resolve(MARKER), requirementsHash() + "\n");
        } catch (IOException e) {
            throw new EvalException("cannot create the Python environment in " + dir + ": " + e.getMessage(), e);
        }
        log.printf("cohx eval: Python environment ready in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        return python();
    }

    private static void run(List<String> cmd, PrintStream log, String hint) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new EvalException("cannot run " + cmd.getFirst() + ": " + e.getMessage() + "; " + hint, e);
        }
        List<String> tail = new ArrayList<>();
        try (var in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                log.println("  " + line);
                tail.add(line);
            }
        }
        try {
            if (p.waitFor() != 0) {
                throw new EvalException(String.join(" ", cmd) + " exited with " + p.exitValue() + ": " + hint);
            }
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new EvalException("interrupted while installing the Python environment");
        }
    }

    static InputStream requirements() {
        InputStream in = PythonEnv.class.getResourceAsStream(REQUIREMENTS);
        if (in == null) {
            throw new EvalException(REQUIREMENTS + " is missing from the cohx jar; rebuild cohx");
        }
        return in;
    }

    static String requirementsHash() {
        try (InputStream in = requirements()) {
            return PairSplit.sha256(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new EvalException("cannot read " + REQUIREMENTS + ": " + e.getMessage(), e);
        }
    }
}
