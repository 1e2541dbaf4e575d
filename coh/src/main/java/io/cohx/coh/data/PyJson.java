package io.cohx.coh.data;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Writes JSON exactly as Python's {@code json.dumps} does with its defaults (ASCII only, every
 * other character as a lowercase {@code \\uXXXX} escape, {@code ", "} and {@code ": "} as
 * separators), so files from {@code cohx pack} are byte-identical to the reference packer's and
 * the two can be swapped freely. Output goes straight into a reusable byte buffer; escaped forms
 * of strings that recur (the same answer in the p, pn and np sequences of a record, the markers
 * in every sequence) are remembered by identity until {@link #forget()}.
 */
final class PyJson {

    private static final byte[] HEX = "0123456789abcdef".getBytes();

    private byte[] buf = new byte[1 << 14];
    private int len;
    private final Map<String, byte[]> escaped = new IdentityHashMap<>();

    /** The bytes written since the last {@link #reset()}: {@code bytes()[0, length())}. */
    byte[] bytes() {
        return buf;
    }

    int length() {
        return len;
    }

    void reset() {
        len = 0;
    }

    /** Drops the remembered escapes (call between records so memory stays flat). */
    void forget() {
        escaped.clear();
    }

    /** Appends {@code {"k": "v", ...}} and a newline for a map of strings, in iteration order. */
    void appendLine(Map<String, String> entries) {
        put('{');
        boolean first = true;
        for (var e : entries.entrySet()) {
            if (!first) {
                put(',');
                put(' ');
            }
            first = false;
            appendString(e.getKey());
            put(':');
            put(' ');
            appendString(e.getValue());
        }
        put('}');
        put('\n');
    }

    void appendString(String s) {
        byte[] done = escaped.get(s);
        if (done == null) {
            int start = len;
            escape(s);
            done = Arrays.copyOfRange(buf, start, len);
            escaped.put(s, done);
            return;
        }
        ensure(done.length);
        System.arraycopy(done, 0, buf, len, done.length);
        len += done.length;
    }

    private void escape(String s) {
        int n = s.length();
        ensure(n + 2);
        buf[len++] = '"';
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') {
                if (len == buf.length) {
                    ensure(1);
                }
                buf[len++] = (byte) c;
                continue;
            }
            ensure(6);
            switch (c) {
                case '"' -> two('"');
                case '\\' -> two('\\');
                case '\n' -> two('n');
                case '\r' -> two('r');
                case '\t' -> two('t');
                case '\b' -> two('b');
                case '\f' -> two('f');
                default -> {
                    buf[len++] = '\\';
                    buf[len++] = 'u';
                    buf[len++] = HEX[(c >> 12) & 15];
                    buf[len++] = HEX[(c >> 8) & 15];
                    buf[len++] = HEX[(c >> 4) & 15];
                    buf[len++] = HEX[c & 15];
                }
            }
        }
        ensure(1);
        buf[len++] = '"';
    }

    private void two(char c) {
        buf[len++] = '\\';
        buf[len++] = (byte) c;
    }

    private void put(char c) {
        ensure(1);
        buf[len++] = (byte) c;
    }

    private void ensure(int more) {
        if (len + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
        }
    }

    /** One JSON line as a String (tests and {@link CohSequence#toJson()}). */
    static String toJson(Map<String, String> entries) {
        var w = new PyJson();
        w.appendLine(entries);
        return new String(w.buf, 0, w.len - 1, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
