package io.cohx.coh.data;

import java.util.Arrays;

/**
 * Reads the {@code chosen} and {@code rejected} texts of an HH-RLHF JSON line straight from its
 * UTF-8 bytes into a char buffer: no String per line, no parser objects. It accepts only a
 * strict subset of JSON, an object whose members are all strings, in well-formed UTF-8 with
 * standard escapes, nothing after the closing brace but JSON whitespace; for such a line the texts
 * are exactly those Jackson would give. For anything else (a byte order mark, blank or broken
 * lines, other value types, odd key spellings, a missing field) {@link #read} says no, and the
 * caller takes the general path, which reports or packs the line as it does every other record.
 */
final class DialogueLine {

    /** Longer lines go the general path, whose parser enforces its own length limits. */
    private static final int MAX_LINE = 1 << 24;
    private static final int MAX_KEY = 256;
    private static final byte[] CHOSEN = {'c', 'h', 'o', 's', 'e', 'n'};
    private static final byte[] REJECTED = {'r', 'e', 'j', 'e', 'c', 't', 'e', 'd'};

    /** Decoded texts, appended one after the other; ranges are handed out by {@link #read}. */
    char[] text = new char[1 << 16];
    int length;
    int chosenFrom;
    int chosenLength;
    int rejectedFrom;
    int rejectedLength;

    void clear() {
        length = 0;
    }

    /** Appends {@code s} to {@link #text}; returns where it starts. */
    int append(String s) {
        if (text.length - length < s.length()) {
            text = Arrays.copyOf(text, Math.max(text.length * 2, length + s.length()));
        }
        s.getChars(0, s.length(), text, length);
        int from = length;
        length += s.length();
        return from;
    }

    /**
     * Decodes line {@code b[from, to)}; true with both ranges set if it is in the subset and has
     * both fields. On false, {@link #text} is left as it was before the call.
     */
    boolean read(byte[] b, int from, int to) {
        if (to - from > MAX_LINE) {
            return false;
        }
        int mark = length;
        int chosen = -1;
        int rejected = -1;
        int i = skipSpace(b, from, to);
        if (i >= to || b[i] != '{') {
            return fail(mark);
        }
        i = skipSpace(b, i + 1, to);
        if (i < to && b[i] == '}') {
            return fail(mark);
        }
        while (true) {
            if (i >= to || b[i] != '"') {
                return fail(mark);
            }
            int keyStart = i + 1;
            int k = keyStart;
            while (k < to && b[k] != '"') {
                int c = b[k];
                if (c < 0x20 || c == '\\' || k - keyStart > MAX_KEY) {
                    return fail(mark);
                }
                k++;
            }
            if (k >= to) {
                return fail(mark);
            }
            int kind = key(b, keyStart, k);
            i = skipSpace(b, k + 1, to);
            if (i >= to || b[i] != ':') {
                return fail(mark);
            }
            i = skipSpace(b, i + 1, to);
            if (i >= to || b[i] != '"') {
                return fail(mark);
            }
            int valueStart = length;
            i = string(b, i + 1, to);
            if (i < 0) {
                return fail(mark);
            }
            // The last occurrence of a key wins, as in Jackson's tree and Python's dict.
            if (kind == 1) {
                chosen = valueStart;
                chosenLength = length - valueStart;
            } else if (kind == 2) {
                rejected = valueStart;
                rejectedLength = length - valueStart;
            } else {
                length = valueStart;
            }
            i = skipSpace(b, i, to);
            if (i >= to) {
                return fail(mark);
            }
            if (b[i] == ',') {
                i = skipSpace(b, i + 1, to);
                continue;
            }
            if (b[i] != '}') {
                return fail(mark);
            }
            break;
        }
        if (skipSpace(b, i + 1, to) != to || chosen < 0 || rejected < 0) {
            return fail(mark);
        }
        chosenFrom = chosen;
        rejectedFrom = rejected;
        return true;
    }

    private boolean fail(int mark) {
        length = mark;
        return false;
    }

    private static int key(byte[] b, int from, int to) {
        if (Arrays.equals(b, from, to, CHOSEN, 0, CHOSEN.length)) {
            return 1;
        }
        return Arrays.equals(b, from, to, REJECTED, 0, REJECTED.length) ? 2 : 0;
    }

    private static int skipSpace(byte[] b, int from, int to) {
        int i = from;
        while (i < to && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) {
            i++;
        }
        return i;
    }

    /**
     * Decodes the string whose first content byte is {@code b[from]} onto {@link #text}; returns
     * the index after the closing quote, or -1 outside the subset.
     */
    private int string(byte[] b, int from, int to) {
        if (text.length - length < to - from) {
            text = Arrays.copyOf(text, Math.max(text.length * 2, length + (to - from)));
        }
        char[] t = text;
        int n = length;
        int i = from;
        while (i < to) {
            int c = b[i];
            if (c >= 0x20 && c != '"' && c != '\\') {
                // Plain ASCII (bytes from 0x80 are negative here and go on below).
                t[n++] = (char) c;
                i++;
                continue;
            }
            if (c == '"') {
                length = n;
                return i + 1;
            }
            if (c == '\\') {
                if (i + 1 >= to) {
                    return -1;
                }
                int e = b[i + 1];
                char decoded;
                switch (e) {
                    case '"' -> decoded = '"';
                    case '\\' -> decoded = '\\';
                    case '/' -> decoded = '/';
                    case 'b' -> decoded = '\b';
                    case 'f' -> decoded = '\f';
                    case 'n' -> decoded = '\n';
                    case 'r' -> decoded = '\r';
                    case 't' -> decoded = '\t';
                    case 'u' -> {
                        if (i + 6 > to) {
                            return -1;
                        }
                        int v = 0;
                        for (int h = i + 2; h < i + 6; h++) {
                            int d = hex(b[h]);
                            if (d < 0) {
                                return -1;
                            }
                            v = (v << 4) | d;
                        }
                        t[n++] = (char) v;
                        i += 6;
                        continue;
                    }
                    default -> {
                        return -1;
                    }
                }
                t[n++] = decoded;
                i += 2;
                continue;
            }
            if (c >= 0 && c < 0x20) {
                return -1;
            }
            // Multi-byte UTF-8, well-formed only (the ranges of Unicode Table 3-7): no overlong
            // forms, no encoded surrogates, nothing above U+10FFFF.
            int b0 = c & 0xff;
            if (b0 >= 0xc2 && b0 <= 0xdf) {
                if (i + 1 >= to || !cont(b[i + 1])) {
                    return -1;
                }
                t[n++] = (char) (((b0 & 0x1f) << 6) | (b[i + 1] & 0x3f));
                i += 2;
            } else if (b0 >= 0xe0 && b0 <= 0xef) {
                if (i + 2 >= to) {
                    return -1;
                }
                int b1 = b[i + 1] & 0xff;
                int lo = b0 == 0xe0 ? 0xa0 : 0x80;
                int hi = b0 == 0xed ? 0x9f : 0xbf;
                if (b1 < lo || b1 > hi || !cont(b[i + 2])) {
                    return -1;
                }
                t[n++] = (char) (((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b[i + 2] & 0x3f));
                i += 3;
            } else if (b0 >= 0xf0 && b0 <= 0xf4) {
                if (i + 3 >= to) {
                    return -1;
                }
                int b1 = b[i + 1] & 0xff;
                int lo = b0 == 0xf0 ? 0x90 : 0x80;
                int hi = b0 == 0xf4 ? 0x8f : 0xbf;
                if (b1 < lo || b1 > hi || !cont(b[i + 2]) || !cont(b[i + 3])) {
                    return -1;
                }
                int cp = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
                t[n++] = Character.highSurrogate(cp);
                t[n++] = Character.lowSurrogate(cp);
                i += 4;
            } else {
                return -1;
            }
        }
        return -1;
    }

    private static boolean cont(byte b) {
        return (b & 0xc0) == 0x80;
    }

    private static int hex(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
