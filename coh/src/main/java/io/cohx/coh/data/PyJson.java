package io.cohx.coh.data;

import java.util.Map;

/**
 * Writes JSON exactly as Python's {@code json.dumps} does with its defaults (ASCII only, every
 * other character as a lowercase {@code \\uXXXX} escape, {@code ", "} and {@code ": "} as
 * separators), so files from {@code cohx pack} are byte-identical to the reference packer's and
 * the two can be swapped freely.
 */
final class PyJson {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private PyJson() {
    }

    /** Appends {@code {"k": "v", ...}} for a map of strings, in the map's iteration order. */
    static void appendObject(StringBuilder out, Map<String, String> entries) {
        out.append('{');
        boolean first = true;
        for (var e : entries.entrySet()) {
            if (!first) {
                out.append(", ");
            }
            first = false;
            appendString(out, e.getKey());
            out.append(": ");
            appendString(out, e.getValue());
        }
        out.append('}');
    }

    static void appendString(StringBuilder out, String s) {
        out.append('"');
        int n = s.length();
        int plainFrom = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') {
                continue;
            }
            out.append(s, plainFrom, i);
            plainFrom = i + 1;
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> out.append("\\u").append(HEX[(c >> 12) & 15]).append(HEX[(c >> 8) & 15])
                        .append(HEX[(c >> 4) & 15]).append(HEX[c & 15]);
            }
        }
        out.append(s, plainFrom, n);
        out.append('"');
    }
}
