package io.cohx.coh.data;

import java.util.ArrayList;
import java.util.List;

/**
 * The few Python string operations the reference packer relies on, reproduced exactly so packed
 * output matches it byte for byte: {@code str.split(sep)} on a literal separator and
 * {@code str.strip()/lstrip()} with Python's notion of whitespace (which differs from Java's
 * {@link String#strip()}: Python also strips U+0085, U+00A0, U+2007 and U+202F).
 */
final class PyText {

    private PyText() {
    }

    /** Python's {@code s.split(sep)}: literal, keeps empty pieces, never drops the tail. */
    static List<String> split(String s, String sep) {
        var parts = new ArrayList<String>();
        int from = 0;
        int at;
        while ((at = s.indexOf(sep, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    static String strip(String s) {
        int end = s.length();
        while (end > 0 && isSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(leadingSpaces(s, end), end);
    }

    static String lstrip(String s) {
        return s.substring(leadingSpaces(s, s.length()));
    }

    private static int leadingSpaces(String s, int end) {
        int start = 0;
        while (start < end && isSpace(s.charAt(start))) {
            start++;
        }
        return start;
    }

    /** Python's {@code str.isspace()} for one UTF-16 unit (all such characters are in the BMP). */
    static boolean isSpace(char c) {
        if (c > ' ' && c < 0x85) {
            return false;
        }
        if (c <= ' ') {
            return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
        }
        return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a)
                || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
    }
}
