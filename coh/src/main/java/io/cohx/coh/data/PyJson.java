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
    /** The characters json.dumps writes as themselves: printable ASCII but quote and backslash. */
    private static final boolean[] PLAIN = new boolean[128];

    static {
        for (char c = 0x20; c <= 0x7e; c++) {
            PLAIN[c] = c != '"' && c != '\\';
        }
    }

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

    /** Makes room for {@code more} bytes and returns the buffer to write them into at {@link #length()}. */
    byte[] room(int more) {
        ensure(more);
        return buf;
    }

    /** Sets the end after bytes were written directly into {@link #room(int)}. */
    void setLength(int newLength) {
        len = newLength;
    }

    /** Appends {@code b[from, from + n)} as is. */
    void appendRaw(byte[] b, int from, int n) {
        ensure(n);
        System.arraycopy(b, from, buf, len, n);
        len += n;
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
        ensure(maxEscaped(s.length()));
        len = escape(s, 0, s.length(), buf, len);
    }

    /** Room {@link #escape(String, int, int, byte[], int)} may need for {@code chars} characters. */
    static int maxEscaped(int chars) {
        return 6 * chars + 2;
    }

    /**
     * Writes {@code s[from, to)} as a quoted JSON string the way {@code json.dumps} does into
     * {@code dst} at {@code pos}, which must have {@link #maxEscaped} room; returns the new end.
     * Printable ASCII other than quote and backslash (nearly all text) is copied as is.
     */
    static int escape(String s, int from, int to, byte[] dst, int pos) {
        int p = pos;
        dst[p++] = '"';
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') {
                dst[p++] = (byte) c;
                continue;
            }
            p = escapeOne(c, dst, p);
        }
        dst[p++] = '"';
        return p;
    }

    /** {@link #escape(String, int, int, byte[], int)} for {@code chars[from, to)}. */
    static int escape(char[] chars, int from, int to, byte[] dst, int pos) {
        int p = pos;
        dst[p++] = '"';
        for (int i = from; i < to; i++) {
            char c = chars[i];
            if (c < 128 && PLAIN[c]) {
                dst[p++] = (byte) c;
                continue;
            }
            p = escapeOne(c, dst, p);
        }
        dst[p++] = '"';
        return p;
    }

    private static int escapeOne(char c, byte[] dst, int pos) {
        int p = pos;
        dst[p++] = '\\';
        switch (c) {
            case '"' -> dst[p++] = '"';
            case '\\' -> dst[p++] = '\\';
            case '\n' -> dst[p++] = 'n';
            case '\r' -> dst[p++] = 'r';
            case '\t' -> dst[p++] = 't';
            case '\b' -> dst[p++] = 'b';
            case '\f' -> dst[p++] = 'f';
            default -> {
                dst[p++] = 'u';
                dst[p++] = HEX[(c >> 12) & 15];
                dst[p++] = HEX[(c >> 8) & 15];
                dst[p++] = HEX[(c >> 4) & 15];
                dst[p++] = HEX[c & 15];
            }
        }
        return p;
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
