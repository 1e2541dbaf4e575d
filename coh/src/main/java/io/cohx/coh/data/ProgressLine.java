package io.cohx.coh.data;

import java.io.PrintStream;

/**
 * A progress line on stderr for long jobs: at most one update every {@code intervalMs}, written
 * in place with a carriage return on a terminal and as plain lines elsewhere (CI logs).
 */
final class ProgressLine {

    private final PrintStream out;
    private final boolean terminal;
    private final long intervalNanos;
    private final long start = System.nanoTime();
    private long last = start;
    private boolean dirty;

    ProgressLine(PrintStream out) {
        this.out = out;
        this.terminal = System.console() != null && out == System.err;
        this.intervalNanos = (terminal ? 500L : 10_000L) * 1_000_000L;
    }

    /** Call often; prints only when the interval has passed. {@code text} is built lazily. */
    void tick(java.util.function.Supplier<String> text) {
        long now = System.nanoTime();
        if (now - last < intervalNanos) {
            return;
        }
        last = now;
        show(text.get());
    }

    void show(String text) {
        if (terminal) {
            out.print("\r" + text + "\u001b[K");
            dirty = true;
        } else {
            out.println(text);
        }
        out.flush();
    }

    double seconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    /** Ends an in-place line so the next output starts on a fresh line. */
    void done() {
        if (dirty) {
            out.println();
            dirty = false;
        }
    }
}
