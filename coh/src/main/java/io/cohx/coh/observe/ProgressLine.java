package io.cohx.coh.observe;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The human progress report of a long job (training steps, packing records). On a terminal it
 * redraws one line in place; otherwise (CI logs, files) it prints a plain line per report, so logs
 * stay readable. A step job ({@link #ProgressLine(PrintStream, boolean, long, long)}) reports
 * step/total, chosen metrics, tokens/s and ETA; any job can {@link #show} its own text, or
 * {@link #tick} it at most every half second on a terminal and every ten seconds in a log. Not
 * thread-safe: one reporter per job.
 */
public final class ProgressLine {
    private final PrintStream out;
    private final boolean terminal;
    private final long startStep;
    private final long total;
    private final long startNanos = System.nanoTime();
    private final long tickNanos;
    private long lastTick = startNanos;
    private int lastWidth;

    /** A job without steps; {@code terminal}: whether {@code out} is one ({@link #isTerminal}); tests pass false. */
    public ProgressLine(PrintStream out, boolean terminal) {
        this(out, terminal, 0, -1);
    }

    /** A job of steps {@code startStep + 1 .. total}. */
    public ProgressLine(PrintStream out, boolean terminal, long startStep, long total) {
        this.out = out;
        this.terminal = terminal;
        this.startStep = startStep;
        this.total = total;
        this.tickNanos = (terminal ? 500L : 10_000L) * 1_000_000L;
    }

    /** Whether {@code stream} is this JVM's stdout or stderr and that is a terminal. */
    public static boolean isTerminal(PrintStream stream) {
        var c = System.console();
        return c != null && c.isTerminal() && (stream == System.out || stream == System.err);
    }

    /** Reports {@code step} with {@code metrics} and the tokens processed since start. */
    public void report(long step, Map<String, ? extends Number> metrics, long tokensSinceStart) {
        double secs = seconds();
        long done = step - startStep;
        var sb = new StringBuilder();
        sb.append(total >= 0 ? String.format(Locale.ROOT, "step %d/%d", step, total) : "step " + step);
        metrics.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %s %.4g", k, v.doubleValue())));
        if (secs > 0 && tokensSinceStart > 0) {
            sb.append(String.format(Locale.ROOT, "  %.0f tok/s", tokensSinceStart / secs));
        }
        if (done > 0 && step < total) {
            long etaSecs = Math.round(secs / done * (total - step));
            sb.append("  ETA ").append(format(Duration.ofSeconds(etaSecs)));
        }
        show(sb.toString());
    }

    /** Shows {@code text()} if the tick interval has passed since the last tick; call as often as you like. */
    public void tick(Supplier<String> text) {
        long now = System.nanoTime();
        if (now - lastTick < tickNanos) {
            return;
        }
        lastTick = now;
        show(text.get());
    }

    /** Shows {@code line} now: in place on a terminal, as a new line elsewhere. */
    public void show(String line) {
        if (terminal) {
            int pad = Math.max(0, lastWidth - line.length());
            out.print("\r" + line + " ".repeat(pad));
            lastWidth = line.length();
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** Seconds since the job started. */
    public double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
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
