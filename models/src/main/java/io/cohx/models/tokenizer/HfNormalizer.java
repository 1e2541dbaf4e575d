package io.cohx.models.tokenizer;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The normalizers of a Hugging Face {@code tokenizer.json} that cohx implements. Each rewrites one
 * piece of text between added tokens (so LLaMA's legacy {@code Prepend("▁")} puts a space mark in
 * front of every such piece, as the reference does).
 */
sealed interface HfNormalizer {

    String normalize(String s);

    /** Unicode normalization forms (NFC for Qwen). */
    record Unicode(java.text.Normalizer.Form form) implements HfNormalizer {
        @Override
        public String normalize(String s) {
            return java.text.Normalizer.normalize(s, form);
        }
    }

    record Lowercase() implements HfNormalizer {
        @Override
        public String normalize(String s) {
            return s.toLowerCase(Locale.ROOT);
        }
    }

    /** {@code Prepend}: the text gets {@code prefix} in front unless it is empty. */
    record Prepend(String prefix) implements HfNormalizer {
        @Override
        public String normalize(String s) {
            return s.isEmpty() ? s : prefix + s;
        }
    }

    /** {@code Replace}: every match of a literal string or a regular expression becomes {@code content}. */
    record Replace(String literal, Pattern regex, String content) implements HfNormalizer {
        @Override
        public String normalize(String s) {
            if (literal != null) return literal.isEmpty() ? s : s.replace(literal, content);
            return regex.matcher(s).replaceAll(Matcher.quoteReplacement(content));
        }
    }

    /** {@code Strip}: whitespace removed from the left and/or right end. */
    record Strip(boolean left, boolean right) implements HfNormalizer {
        @Override
        public String normalize(String s) {
            int a = 0;
            int b = s.length();
            while (left && a < b && Gpt2PreTokenizer.isWhiteSpace(s.codePointAt(a))) a += Character.charCount(s.codePointAt(a));
            while (right && b > a && Gpt2PreTokenizer.isWhiteSpace(s.codePointBefore(b))) b -= Character.charCount(s.codePointBefore(b));
            return s.substring(a, b);
        }
    }

    record Sequence(List<HfNormalizer> steps) implements HfNormalizer {
        @Override
        public String normalize(String s) {
            for (HfNormalizer n : steps) s = n.normalize(s);
            return s;
        }
    }
}
