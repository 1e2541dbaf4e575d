package io.cohx.models.tokenizer;

/**
 * GPT-2's pre-tokenization, the regular expression
 * {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}, written out
 * as a scanner: the same pieces as tiktoken and Hugging Face tokenizers produce, several times
 * faster than {@code java.util.regex} with its look-ahead. {@code \s} is Unicode White_Space,
 * as in the reference regex engines (not {@link Character#isWhitespace}).
 */
final class Gpt2PreTokenizer {

    private Gpt2PreTokenizer() {}

    /** Receives pieces as UTF-16 ranges of the input. */
    @FunctionalInterface
    interface Sink {
        void piece(int from, int to);
    }

    static void split(String s, Sink sink) {
        int n = s.length();
        int i = 0;
        while (i < n) {
            int end = next(s, i, n);
            sink.piece(i, end);
            i = end;
        }
    }

    /** End of the piece that starts at {@code i}. */
    private static int next(String s, int i, int n) {
        char c = s.charAt(i);
        if (c == '\'' && i + 1 < n) {
            char d = s.charAt(i + 1);
            if (d == 's' || d == 't' || d == 'm' || d == 'd') return i + 2;
            if (i + 2 < n) {
                char e = s.charAt(i + 2);
                if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) return i + 3;
            }
        }
        // " ?X+": an optional single space, then a run of one class (letters, numbers, other).
        int cp = s.codePointAt(i);
        int afterSpace = c == ' ' && i + 1 < n ? i + 1 : i;
        int cpAfter = s.codePointAt(afterSpace);
        if (isLetter(cpAfter)) {
            int j = afterSpace;
            while (j < n) {
                int x = s.codePointAt(j);
                if (!isLetter(x)) break;
                j += Character.charCount(x);
            }
            return j;
        }
        if (isNumber(cpAfter)) {
            int j = afterSpace;
            while (j < n) {
                int x = s.codePointAt(j);
                if (!isNumber(x)) break;
                j += Character.charCount(x);
            }
            return j;
        }
        if (isOther(cpAfter)) {
            int j = afterSpace;
            while (j < n) {
                int x = s.codePointAt(j);
                if (!isOther(x)) break;
                j += Character.charCount(x);
            }
            return j;
        }
        // Whitespace run: all of it at the end of the text; otherwise all but its last character,
        // which then leads the next piece (" word"); a lone whitespace character stands alone.
        int j = i;
        int lastStart = i;
        while (j < n) {
            int x = s.codePointAt(j);
            if (!isWhiteSpace(x)) break;
            lastStart = j;
            j += Character.charCount(x);
        }
        if (j == i) return i + Character.charCount(cp); // unreachable: every code point is in one class
        if (j == n || lastStart == i) return j;
        return lastStart;
    }

    private static boolean isOther(int cp) {
        return !isWhiteSpace(cp) && !isLetter(cp) && !isNumber(cp);
    }

    static boolean isLetter(int cp) {
        if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
        return Character.isLetter(cp);
    }

    static boolean isNumber(int cp) {
        if (cp < 0x80) return cp >= '0' && cp <= '9';
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /** Unicode's White_Space property. */
    static boolean isWhiteSpace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }
}
