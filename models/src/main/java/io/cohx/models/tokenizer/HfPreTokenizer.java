package io.cohx.models.tokenizer;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pre-tokenizers of a Hugging Face {@code tokenizer.json} that cohx implements: each cuts a
 * piece of text into the words that BPE then sees separately. Pieces are ranges of a string (a
 * pre-tokenizer may hand on a rewritten string, as Metaspace does); {@code atStart} tells whether
 * a piece begins the original text, which Metaspace's {@code prepend_scheme: first} needs.
 */
sealed interface HfPreTokenizer {

    /** Receives the words: {@code s[from, to)}, and whether the word begins the original text. */
    @FunctionalInterface
    interface Sink {
        void piece(String s, int from, int to, boolean atStart);
    }

    void split(String s, boolean atStart, Sink sink);

    /** The GPT-2 pattern (Hugging Face's ByteLevel {@code use_regex}), also named in {@code Split}. */
    String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    /** Llama 3's pattern (also SmolLM3's, DBRX's): letters with one leading non-letter, numbers in threes. */
    String LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen 2/2.5/3's pattern: Llama 3's with single digits. */
    String QWEN2_PATTERN = LLAMA3_PATTERN.replace("\\p{N}{1,3}", "\\p{N}");

    /** Hugging Face's ByteLevel pre-tokenizer: an optional leading space, then GPT-2's pattern. The byte mapping is the model's. */
    record ByteLevel(boolean addPrefixSpace, boolean useRegex) implements HfPreTokenizer {
        @Override
        public void split(String s, boolean atStart, Sink sink) {
            String t = addPrefixSpace && !s.startsWith(" ") ? " " + s : s;
            if (!useRegex) {
                if (!t.isEmpty()) sink.piece(t, 0, t.length(), atStart);
                return;
            }
            Gpt2PreTokenizer.split(t, (from, to) -> sink.piece(t, from, to, atStart && from == 0));
        }
    }

    /** {@code Split} with behavior Isolated: every match and every gap between matches is a word. */
    record Split(String pattern, Scanner scanner) implements HfPreTokenizer {
        @Override
        public void split(String s, boolean atStart, Sink sink) {
            scanner.scan(s, (from, to) -> sink.piece(s, from, to, atStart && from == 0));
        }

        /** Picks the hand-written scanner for the patterns cohx knows, java.util.regex for others. */
        static Split of(String regex, boolean literal) {
            if (literal) return new Split(regex, new RegexScanner(Pattern.compile(Pattern.quote(regex))));
            if (regex.equals(GPT2_PATTERN)) return new Split(regex, Gpt2PreTokenizer::split);
            if (regex.equals(LLAMA3_PATTERN)) return new Split(regex, (s, sink) -> Llama3Scanner.split(s, 3, sink));
            if (regex.equals(QWEN2_PATTERN)) return new Split(regex, (s, sink) -> Llama3Scanner.split(s, 1, sink));
            return new Split(regex, new RegexScanner(Pattern.compile(regex,
                    Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE)));
        }
    }

    /** Splits a string into ranges that cover it. */
    @FunctionalInterface
    interface Scanner {
        void scan(String s, Gpt2PreTokenizer.Sink sink);
    }

    /** Any regular expression: matches and the gaps between them, in order (Hugging Face's Isolated). */
    record RegexScanner(Pattern pattern) implements Scanner {
        @Override
        public void scan(String s, Gpt2PreTokenizer.Sink sink) {
            Matcher m = pattern.matcher(s);
            int last = 0;
            while (m.find()) {
                if (m.end() == m.start()) continue; // empty matches split nothing
                if (m.start() > last) sink.piece(last, m.start());
                sink.piece(m.start(), m.end());
                last = m.end();
            }
            if (last < s.length()) sink.piece(last, s.length());
        }
    }

    /** {@code Digits}: numbers (Unicode category N) isolated one by one, or as runs. */
    record Digits(boolean individual) implements HfPreTokenizer {
        @Override
        public void split(String s, boolean atStart, Sink sink) {
            int n = s.length();
            int start = 0;
            int i = 0;
            while (i < n) {
                int cp = s.codePointAt(i);
                int next = i + Character.charCount(cp);
                if (Gpt2PreTokenizer.isNumber(cp)) {
                    if (i > start) sink.piece(s, start, i, atStart && start == 0);
                    int end = next;
                    if (!individual) {
                        while (end < n && Gpt2PreTokenizer.isNumber(s.codePointAt(end))) end += Character.charCount(s.codePointAt(end));
                    }
                    sink.piece(s, i, end, atStart && i == 0);
                    start = end;
                    next = end;
                }
                i = next;
            }
            if (start < n) sink.piece(s, start, n, atStart && start == 0);
        }
    }

    /** Where Metaspace puts its leading replacement character. */
    enum PrependScheme { ALWAYS, FIRST, NEVER }

    /**
     * {@code Metaspace}: spaces become {@code replacement} (U+2581), one is put in front per
     * {@code scheme} unless the text starts with one, and with {@code split} each replacement
     * character starts a new word.
     */
    record Metaspace(char replacement, PrependScheme scheme, boolean splitWords) implements HfPreTokenizer {
        @Override
        public void split(String s, boolean atStart, Sink sink) {
            String t = s.replace(' ', replacement);
            boolean prepend = switch (scheme) {
                case ALWAYS -> true;
                case FIRST -> atStart;
                case NEVER -> false;
            };
            if (prepend && (t.isEmpty() || t.charAt(0) != replacement)) t = replacement + t;
            if (!splitWords) {
                if (!t.isEmpty()) sink.piece(t, 0, t.length(), atStart);
                return;
            }
            int start = 0;
            for (int i = 1; i < t.length(); i++) {
                if (t.charAt(i) == replacement) {
                    sink.piece(t, start, i, atStart && start == 0);
                    start = i;
                }
            }
            if (start < t.length()) sink.piece(t, start, t.length(), atStart && start == 0);
        }
    }

    /** Pre-tokenizers applied in order, each to every word of the one before. */
    record Sequence(List<HfPreTokenizer> steps) implements HfPreTokenizer {
        @Override
        public void split(String s, boolean atStart, Sink sink) {
            run(0, s, atStart, sink);
        }

        private void run(int k, String s, boolean atStart, Sink sink) {
            if (k == steps.size()) {
                if (!s.isEmpty()) sink.piece(s, 0, s.length(), atStart);
                return;
            }
            if (k == steps.size() - 1) {
                steps.get(k).split(s, atStart, sink);
                return;
            }
            steps.get(k).split(s, atStart, (str, from, to, first) -> run(k + 1, str.substring(from, to), first, sink));
        }
    }

    /** No pre-tokenization: the whole (normalized) text is one word. */
    record Whole() implements HfPreTokenizer {
        @Override
        public void split(String s, boolean atStart, Sink sink) {
            if (!s.isEmpty()) sink.piece(s, 0, s.length(), atStart);
        }
    }
}
