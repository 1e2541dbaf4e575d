package io.cohx.models.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * UTF-8 rules as SentencePiece applies them: a character is valid only when its whole sequence
 * is present, well formed, shortest-form and not a surrogate; anything else is one invalid byte,
 * shown as U+FFFD. The JDK's decoder groups invalid bytes differently, so SentencePiece decoding
 * uses these helpers instead.
 */
final class Utf8 {

    static final byte[] REPLACEMENT = "\uFFFD".getBytes(StandardCharsets.UTF_8);

    private Utf8() {}

    /** Length of the character that starts with {@code lead}, judged from the lead byte alone. */
    static int charLength(byte lead) {
        int b = lead & 0xFF;
        if (b < 0x80) return 1;
        if (b < 0xC0) return 1; // a stray continuation byte counts as one
        if (b < 0xE0) return 2;
        if (b < 0xF0) return 3;
        if (b < 0xF8) return 4;
        return 1;
    }

    /**
     * Length of the valid character at {@code bytes[pos..end)}, or -1 if the bytes there are not a
     * complete valid character.
     */
    static int validCharLength(byte[] bytes, int pos, int end) {
        int len = end - pos;
        int b0 = bytes[pos] & 0xFF;
        if (b0 < 0x80) return 1;
        if (len >= 2 && (b0 & 0xE0) == 0xC0 && isTrail(bytes[pos + 1])) {
            int cp = ((b0 & 0x1F) << 6) | (bytes[pos + 1] & 0x3F);
            if (cp >= 0x80) return 2;
        } else if (len >= 3 && (b0 & 0xF0) == 0xE0 && isTrail(bytes[pos + 1]) && isTrail(bytes[pos + 2])) {
            int cp = ((b0 & 0x0F) << 12) | ((bytes[pos + 1] & 0x3F) << 6) | (bytes[pos + 2] & 0x3F);
            if (cp >= 0x800 && isValidCodePoint(cp)) return 3;
        } else if (len >= 4 && (b0 & 0xF8) == 0xF0 && isTrail(bytes[pos + 1]) && isTrail(bytes[pos + 2])
                && isTrail(bytes[pos + 3])) {
            int cp = ((b0 & 0x07) << 18) | ((bytes[pos + 1] & 0x3F) << 12) | ((bytes[pos + 2] & 0x3F) << 6)
                    | (bytes[pos + 3] & 0x3F);
            if (cp >= 0x10000 && isValidCodePoint(cp)) return 4;
        }
        return -1;
    }

    /**
     * Whether the bytes at {@code pos..end)} could still become a valid character if more bytes
     * followed: a lead byte with fewer continuation bytes than it needs, all well formed so far.
     */
    static boolean isIncompletePrefix(byte[] bytes, int pos, int end) {
        int need = charLength(bytes[pos]);
        int b0 = bytes[pos] & 0xFF;
        if (need == 1 || b0 < 0xC2 || b0 > 0xF4 || end - pos >= need) return false;
        for (int i = pos + 1; i < end; i++) {
            if (!isTrail(bytes[i])) return false;
        }
        if (end - pos >= 2) {
            int b1 = bytes[pos + 1] & 0xFF;
            if (b0 == 0xE0 && b1 < 0xA0) return false; // overlong
            if (b0 == 0xED && b1 >= 0xA0) return false; // surrogate
            if (b0 == 0xF0 && b1 < 0x90) return false; // overlong
            if (b0 == 0xF4 && b1 >= 0x90) return false; // above U+10FFFF
        }
        return true;
    }

    private static boolean isTrail(byte b) {
        return (b & 0xC0) == 0x80;
    }

    private static boolean isValidCodePoint(int cp) {
        return cp < 0xD800 || (cp >= 0xE000 && cp <= 0x10FFFF);
    }

    /**
     * Appends {@code bytes[from..to)} to {@code out} as text, each byte that does not start a valid
     * character becoming U+FFFD, as SentencePiece decodes byte pieces.
     */
    static void appendLenient(byte[] bytes, int from, int to, StringBuilder out) {
        int pos = from;
        while (pos < to) {
            int n = validCharLength(bytes, pos, to);
            if (n < 0) {
                out.append('\uFFFD');
                pos++;
            } else {
                out.append(new String(bytes, pos, n, StandardCharsets.UTF_8));
                pos += n;
            }
        }
    }

    /** UTF-8 bytes of {@code text}; an unpaired surrogate becomes U+FFFD (the JDK would write '?'). */
    static byte[] encode(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (Character.isSurrogate(text.charAt(i))) return encodeWithSurrogates(text);
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] encodeWithSurrogates(String text) {
        var sb = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                sb.append(c).append(text.charAt(++i));
            } else {
                sb.append(Character.isSurrogate(c) ? '\uFFFD' : c);
            }
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
}
