package io.cohx.coh.data;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where readers report input they could not use (a malformed line, a missing field): each
 * problem is counted by reason and the first few are printed with file:line; with
 * {@code strict} the first one is fatal instead. Thread-confined like the reader that uses it.
 */
public final class InputProblems {

    private static final int SHOWN = 10;

    private final boolean strict;
    private final PrintStream log;
    private final Map<String, Long> byReason = new LinkedHashMap<>();
    private long total;

    public InputProblems(boolean strict, PrintStream log) {
        this.strict = strict;
        this.log = log;
    }

    /**
     * Records one problem. {@code reason} is the short form counted in the summary (e.g.
     * "malformed JSON"); {@code where} is "file:line"; {@code detail} the full explanation.
     */
    public void report(String reason, String where, String detail) {
        String message = where + ": " + detail;
        if (strict) {
            throw new DataException(message + " (--strict makes this fatal; without it the record is skipped"
                    + " and counted)");
        }
        total++;
        byReason.merge(reason, 1L, Long::sum);
        if (total <= SHOWN) {
            log.println("warning: " + message + "; skipped");
        } else if (total == SHOWN + 1) {
            log.println("warning: more input problems; the summary counts them all");
        }
    }

    public long total() {
        return total;
    }

    public Map<String, Long> byReason() {
        return Map.copyOf(byReason);
    }

    public boolean strict() {
        return strict;
    }
}
