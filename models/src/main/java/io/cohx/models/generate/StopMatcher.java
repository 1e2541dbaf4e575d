package io.cohx.models.generate;

import java.util.List;

/**
 * Follows the text of one generated row and finds the first stop string in it. Text that might
 * still turn out to be the start of a stop string is held back, so a stream never shows a piece of
 * the stop string the final text leaves out.
 */
final class StopMatcher {
    private final List<String> stops;
    private final StringBuilder text = new StringBuilder();
    private int emitted;
    private int stopAt = -1;

    StopMatcher(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
    }

    /** Adds generated text; returns the text that is now safe to show (possibly empty). */
    String push(String piece) {
        if (stopAt >= 0) {
            return "";
        }
        int from = Math.max(0, text.length() - maxStop());
        text.append(piece);
        int best = -1;
        for (String s : stops) {
            int i = text.indexOf(s, from);
            if (i >= 0 && (best < 0 || i < best)) {
                best = i;
            }
        }
        if (best >= 0) {
            stopAt = best;
            return take(best);
        }
        return take(text.length() - heldBack());
    }

    /** True once a stop string was seen. */
    boolean stopped() {
        return stopAt >= 0;
    }

    /** The rest of the text at the end of generation. */
    String finish() {
        return stopAt >= 0 ? "" : take(text.length());
    }

    /** The final text: everything before the first stop string. */
    String text() {
        return stopAt >= 0 ? text.substring(0, stopAt) : text.toString();
    }

    private String take(int upTo) {
        if (upTo <= emitted) {
            return "";
        }
        String r = text.substring(emitted, upTo);
        emitted = upTo;
        return r;
    }

    private int maxStop() {
        int m = 0;
        for (String s : stops) {
            m = Math.max(m, s.length());
        }
        return m;
    }

    /** Length of the longest end of the text that is a proper start of some stop string. */
    private int heldBack() {
        int best = 0;
        for (String s : stops) {
            for (int n = Math.min(s.length() - 1, text.length()); n > best; n--) {
                if (text.toString().regionMatches(text.length() - n, s, 0, n)) {
                    best = n;
                    break;
                }
            }
        }
        return best;
    }
}
