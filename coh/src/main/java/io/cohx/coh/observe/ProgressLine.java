package io.cohx.coh.observe;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * The human progress report of a long job: step/total, chosen metrics, tokens/s and ETA. On a
 * terminal it redraws one line in place; otherwise (CI logs, files) it prints a plain line per
 * report, so logs stay readable. Not thread-safe: one reporter per job.
 */
public final class ProgressLine {
    private final PrintStream out;
    private final boolean terminal;
    private final long total;
    private final long startNanos;
    private final long startStep;
    private int lastWidth;

    /** {@code terminal} should be {@code System.console() != null} for stdout; tests pass false. */
    public ProgressLine(PrintStream out, boolean terminal, long startStep, long total) {
        this.out = out;
        this.terminal = terminal;
        this.total = total;
        this.startStep = startStep;
        this.startNanos = System.nanoTime();
    }

    /** Whether this JVM's stdout is a terminal. */
    public static boolean stdoutIsTerminal() {
        var c = System.console();
        return c != null && c.isTerminal();
    }

    /** Reports {@code step} with {@code metrics} and the tokens processed since start. */
    public void report(long step, Map<String, ? extends Number> metrics, long tokensSinceStart) {
        double secs = (System.nanoTime() - startNanos) / 1e9;
        long done = step - startStep;
        var sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "step %d/%d", step, total));
        metrics.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %s %.4g", k, v.doubleValue())));
        if (secs > 0 && tokensSinceStart > 0) {
            sb.append(String.format(Locale.ROOT, "  %.0f tok/s", tokensSinceStart / secs));
        }
        if (done > 0 && step < total) {
            long etaSecs = Math.round(secs / done * (total - step));
            sb.append("  ETA ").append(format(Duration.ofSeconds(etaSecs)));
        }
        String line = sb.toString();
        if (terminal) {
            int pad = Math.max(0, lastWidth - line.length());
            out.print("\r" + line + " ".repeat(pad));
            lastWidth = line.length();
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** Ends an in-place line (prints the newline a terminal report left open). */
    public void finish() {
        if (terminal && lastWidth > 0) {
            out.println();
            lastWidth = 0;
        }
    }

    static String format(Duration d) {
        long s = d.toSeconds();
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
        }
        if (s >= 60) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return s + "s";
    }
}
