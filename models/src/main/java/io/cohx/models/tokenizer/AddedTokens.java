package io.cohx.models.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens (special tokens such as {@code <|im_start|>}, and a tokenizer.json's other
 * added tokens) in text, as Hugging Face tokenizers does: the leftmost match wins, the longest at
 * that position, matches never overlap; then a {@code single_word} token is dropped when a word
 * character touches it, {@code lstrip}/{@code rstrip} swallow the whitespace beside it, and special
 * tokens are skipped (left as text) when the caller encodes special tokens literally.
 */
final class AddedTokens {

    /** One added token and its tokenizer.json flags. */
    record Token(int id, String content, boolean special, boolean singleWord, boolean lstrip, boolean rstrip,
            boolean normalized) {

        /** A special token without flags (SentencePiece control pieces, GGUF control tokens). */
        static Token special(int id, String content) {
            return new Token(id, content, true, false, false, false, false);
        }
    }

    /** Receives the split: text ranges of the input between tokens, and token ids, in order. */
    interface Sink {
        void text(int from, int to);

        void token(int id);
    }

    private final Map<Character, Token[]> byFirstChar = new HashMap<>(); // longest first
    private final boolean anySpecial;

    AddedTokens(List<Token> tokens) {
        var groups = new HashMap<Character, List<Token>>();
        boolean special = false;
        for (Token t : tokens) {
            if (t.content().isEmpty()) continue;
            groups.computeIfAbsent(t.content().charAt(0), c -> new ArrayList<>()).add(t);
            special |= t.special();
        }
        for (var e : groups.entrySet()) {
            Token[] arr = e.getValue().toArray(Token[]::new);
            Arrays.sort(arr, Comparator.comparingInt((Token t) -> t.content().length()).reversed());
            byFirstChar.put(e.getKey(), arr);
        }
        anySpecial = special;
    }

    boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    /** Whether splitting can find anything when special tokens are {@code skipSpecial}. */
    boolean matchesAnything(boolean skipSpecial) {
        if (byFirstChar.isEmpty()) return false;
        if (!skipSpecial || !anySpecial) return true;
        for (Token[] ts : byFirstChar.values()) for (Token t : ts) if (!t.special()) return true;
        return false;
    }

    /** Splits {@code s}; with {@code skipSpecial}, special tokens found in the text stay text. */
    void split(String s, boolean skipSpecial, Sink sink) {
        int n = s.length();
        int textStart = 0; // HF's start_offset: where the next text range begins
        int pos = 0;
        while (pos < n) {
            Token hit = null;
            int at = pos;
            for (; at < n; at++) {
                Token[] cands = byFirstChar.get(s.charAt(at));
                if (cands == null) continue;
                for (Token t : cands) {
                    if (s.startsWith(t.content(), at)) {
                        hit = t;
                        break;
                    }
                }
                if (hit != null) break;
            }
            if (hit == null) break;
            int start = at;
            int stop = at + hit.content().length();
            pos = stop; // the search goes on after the raw match, whatever is dropped or stripped
            if (skipSpecial && hit.special()) continue;
            if (hit.singleWord()) {
                boolean startOk = start == 0 || !isWordChar(s.codePointBefore(start));
                boolean stopOk = stop == n || !isWordChar(s.codePointAt(stop));
                if (!startOk || !stopOk) continue;
            }
            if (hit.lstrip()) {
                int k = start;
                while (k > 0 && Gpt2PreTokenizer.isWhiteSpace(s.codePointBefore(k))) k -= Character.charCount(s.codePointBefore(k));
                start = Math.max(k, textStart);
            }
            if (hit.rstrip()) {
                while (stop < n && Gpt2PreTokenizer.isWhiteSpace(s.codePointAt(stop))) stop += Character.charCount(s.codePointAt(stop));
            }
            if (textStart < start) sink.text(textStart, start);
            sink.token(hit.id());
            textStart = stop;
        }
        if (textStart < n) sink.text(textStart, n);
    }

    /** Rust regex's Unicode {@code \w}: alphabetic, marks, decimal digits, connector punctuation, joiners. */
    private static boolean isWordChar(int cp) {
        if (Character.isAlphabetic(cp)) return true;
        return switch (Character.getType(cp)) {
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK,
                    Character.DECIMAL_DIGIT_NUMBER, Character.CONNECTOR_PUNCTUATION -> true;
            default -> cp == 0x200C || cp == 0x200D;
        };
    }
}
