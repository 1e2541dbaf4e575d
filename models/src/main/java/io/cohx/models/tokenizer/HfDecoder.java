package io.cohx.models.tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The decoders of a Hugging Face {@code tokenizer.json} that cohx implements, with the reference's
 * semantics: each step maps the list of token strings to a new list, in order. {@code first}
 * says whether the list starts at the first token of the text (Metaspace drops its marks there).
 * The byte-level decoder (GPT-2, Llama 3, Qwen, SmolLM) is handled on bytes by the tokenizer.
 */
sealed interface HfDecoder {

    List<String> apply(List<String> tokens, boolean first);

    /** {@code Replace} with a literal pattern. */
    record Replace(String pattern, String content) implements HfDecoder {
        @Override
        public List<String> apply(List<String> tokens, boolean first) {
            var out = new ArrayList<String>(tokens.size());
            for (String t : tokens) out.add(t.replace(pattern, content));
            return out;
        }
    }

    /**
     * {@code ByteFallback}: runs of {@code <0xNN>} tokens become the text of their bytes, or one
     * U+FFFD per byte when the run is not valid UTF-8 as a whole.
     */
    record ByteFallback() implements HfDecoder {
        @Override
        public List<String> apply(List<String> tokens, boolean first) {
            var out = new ArrayList<String>(tokens.size());
            var run = new java.io.ByteArrayOutputStream();
            for (String t : tokens) {
                int b = byteOf(t);
                if (b >= 0) {
                    run.write(b);
                    continue;
                }
                flush(run, out);
                out.add(t);
            }
            flush(run, out);
            return out;
        }

        private static void flush(java.io.ByteArrayOutputStream run, List<String> out) {
            if (run.size() == 0) return;
            byte[] bytes = run.toByteArray();
            run.reset();
            try {
                out.add(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString());
            } catch (CharacterCodingException e) {
                for (int i = 0; i < bytes.length; i++) out.add("\uFFFD");
            }
        }
    }

    /** The byte of a {@code <0xNN>} token, or -1. */
    static int byteOf(String t) {
        if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') return -1;
        int hi = Character.digit(t.charAt(3), 16);
        int lo = Character.digit(t.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    /** {@code Fuse}: all tokens into one string. */
    record Fuse() implements HfDecoder {
        @Override
        public List<String> apply(List<String> tokens, boolean first) {
            return List.of(String.join("", tokens));
        }
    }

    /** {@code Strip}: up to {@code start} leading and {@code stop} trailing {@code content} characters off each token. */
    record Strip(char content, int start, int stop) implements HfDecoder {
        @Override
        public List<String> apply(List<String> tokens, boolean first) {
            var out = new ArrayList<String>(tokens.size());
            for (String t : tokens) {
                int a = 0;
                while (a < start && a < t.length() && t.charAt(a) == content) a++;
                int b = t.length();
                for (int i = 0; i < stop && b > a && t.charAt(b - 1) == content; i++) b--;
                out.add(t.substring(a, b));
            }
            return out;
        }
    }

    /** {@code Metaspace}: marks become spaces, except in the text's first token unless the scheme is never. */
    record Metaspace(char replacement, boolean dropInFirst) implements HfDecoder {
        @Override
        public List<String> apply(List<String> tokens, boolean first) {
            var out = new ArrayList<String>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i);
                boolean drop = first && i == 0 && dropInFirst;
                out.add(drop ? t.replace(String.valueOf(replacement), "") : t.replace(replacement, ' '));
            }
            return out;
        }
    }
}
