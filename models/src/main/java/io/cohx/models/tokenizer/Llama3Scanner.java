package io.cohx.models.tokenizer;

/**
 * Llama 3's pre-tokenization pattern written out as a scanner (the same words as the regex
 * engines of the reference libraries, without backtracking):
 * {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}.
 * With {@code maxDigits} 1 it is Qwen 2's pattern. The case-insensitive contractions also accept
 * U+017F (long s), which Unicode case folding maps to {@code s}.
 */
final class Llama3Scanner {

    private Llama3Scanner() {}

    static void split(String s, int maxDigits, Gpt2PreTokenizer.Sink sink) {
        int n = s.length();
        int i = 0;
        while (i < n) {
            int end = next(s, i, n, maxDigits);
            sink.piece(i, end);
            i = end;
        }
    }

    private static int next(String s, int i, int n, int maxDigits) {
        char c = s.charAt(i);
        if (c == '\'' && i + 1 < n) {
            char d = s.charAt(i + 1);
            if (is(d, 's') || d == '\u017F' || is(d, 't') || is(d, 'm') || is(d, 'd')) return i + 2;
            if (i + 2 < n) {
                char e = s.charAt(i + 2);
                if ((is(d, 'r') && is(e, 'e')) || (is(d, 'v') && is(e, 'e')) || (is(d, 'l') && is(e, 'l'))) return i + 3;
            }
        }
        int cp = s.codePointAt(i);
        int afterCp = i + Character.charCount(cp);
        boolean letter = Gpt2PreTokenizer.isLetter(cp);
        boolean number = Gpt2PreTokenizer.isNumber(cp);
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (letter) return letterRun(s, i, n);
        if (!number && cp != '\r' && cp != '\n' && afterCp < n && Gpt2PreTokenizer.isLetter(s.codePointAt(afterCp))) {
            return letterRun(s, afterCp, n);
        }
        // \p{N}{1,maxDigits}
        if (number) {
            int j = afterCp;
            for (int k = 1; k < maxDigits && j < n; k++) {
                int x = s.codePointAt(j);
                if (!Gpt2PreTokenizer.isNumber(x)) break;
                j += Character.charCount(x);
            }
            return j;
        }
        boolean space = Gpt2PreTokenizer.isWhiteSpace(cp);
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        int j = c == ' ' && afterCp < n ? afterCp : i;
        if (j < n && isOther(s.codePointAt(j))) {
            while (j < n) {
                int x = s.codePointAt(j);
                if (!isOther(x)) break;
                j += Character.charCount(x);
            }
            while (j < n && (s.charAt(j) == '\r' || s.charAt(j) == '\n')) j++;
            return j;
        }
        if (!space) return afterCp; // unreachable: every code point is a letter, number, other or space
        // A whitespace run: up to its last line break (\s*[\r\n]+), else all of it at the end of the text,
        // else all but its last character (\s+(?!\S)), else the single character (\s+).
        int end = i;
        int lastBreak = -1;
        int lastStart = i;
        while (end < n) {
            int x = s.codePointAt(end);
            if (!Gpt2PreTokenizer.isWhiteSpace(x)) break;
            if (x == '\r' || x == '\n') lastBreak = end;
            lastStart = end;
            end += Character.charCount(x);
        }
        if (lastBreak >= 0) return lastBreak + 1;
        if (end == n || lastStart == i) return end;
        return lastStart;
    }

    private static int letterRun(String s, int j, int n) {
        while (j < n) {
            int x = s.codePointAt(j);
            if (!Gpt2PreTokenizer.isLetter(x)) break;
            j += Character.charCount(x);
        }
        return j;
    }

    private static boolean is(char ch, char lower) {
        return ch == lower || ch == Character.toUpperCase(lower);
    }

    private static boolean isOther(int cp) {
        return !Gpt2PreTokenizer.isWhiteSpace(cp) && !Gpt2PreTokenizer.isLetter(cp) && !Gpt2PreTokenizer.isNumber(cp);
    }
}
