package io.cohx.serve;

import io.cohx.models.tokenizer.Tokenizer;

import java.util.Arrays;

/**
 * Turns request texts into token ids the way the original server does: prefixes get the
 * configured texts around them and, with {@code add_bos_token}, the tokenizer's bos in front, and
 * lose their beginning when longer than {@code input_length}; scored texts lose their end beyond
 * {@code seq_length - input_length}. Chat turns are joined with the chat prefixes and suffixes,
 * ending with the model's prefix (the CoH feedback phrase) that the answer follows.
 */
final class Prompts {
    private final Tokenizer tokenizer;
    private final ServeOptions o;

    Prompts(Tokenizer tokenizer, ServeOptions options) {
        this.tokenizer = tokenizer;
        this.o = options;
    }

    int bos() {
        return o.addBosToken() ? tokenizer.bosId() : -1;
    }

    /** A generation prompt: decorated, with bos, the last {@code input_length} tokens. */
    int[] prefix(String text) {
        return withBos(encode(o.prependToPrefix() + text + o.appendToPrefix()), o.inputLength());
    }

    /** Prefix tokens for scoring (no bos: the scorer adds it), at most {@code input_length}. */
    int[] scoredPrefix(String text) {
        return keepLast(encode(o.prependToPrefix() + text + o.appendToPrefix()), o.inputLength());
    }

    /** A scored continuation: decorated, at most {@code seq_length - input_length} tokens (its end is cut). */
    int[] scoredText(String text) {
        int[] t = encode(o.prependToText() + text + o.appendToText());
        int room = o.seqLength() - o.inputLength();
        return t.length > room ? Arrays.copyOf(t, room) : t;
    }

    /** A whole text for rolling scoring (no cut). */
    int[] rollingText(String text) {
        return encode(o.prependToText() + text + o.appendToText());
    }

    /** The original /chat: the text the model continues, given the conversation so far. */
    String chatTurn(String context, String prompt, String lmPrefix) {
        return context + o.chatUserPrefix() + prompt + o.chatUserSuffix() + lmPrefix;
    }

    /** The conversation after the model answered. */
    String chatContext(String turn, String response) {
        return turn + response + o.chatLmSuffix();
    }

    int[] encode(String text) {
        return tokenizer.encode(text);
    }

    /**
     * Tokens of {@code text} where the tokenizer's bos/eos spellings (e.g. {@code <|endoftext|>})
     * become their ids, as clients of {@code /tokenize} expect.
     */
    int[] encodeWithSpecials(String text) {
        String[] specials = {piece(tokenizer.eosId()), piece(tokenizer.bosId())};
        int[] ids = {tokenizer.eosId(), tokenizer.bosId()};
        for (int s = 0; s < specials.length; s++) {
            if (specials[s] != null && text.contains(specials[s])) {
                int at = text.indexOf(specials[s]);
                int[] head = encodeWithSpecials(text.substring(0, at));
                int[] tail = encodeWithSpecials(text.substring(at + specials[s].length()));
                int[] r = Arrays.copyOf(head, head.length + 1 + tail.length);
                r[head.length] = ids[s];
                System.arraycopy(tail, 0, r, head.length + 1, tail.length);
                return r;
            }
        }
        return tokenizer.encode(text);
    }

    String piece(int id) {
        return id < 0 ? null : tokenizer.idToPiece(id);
    }

    String decode(int[] ids) {
        return tokenizer.decode(ids);
    }

    private int[] withBos(int[] t, int max) {
        int b = bos();
        if (b < 0) {
            if (t.length == 0) {
                throw new BadRequest("prompt", "the prompt is empty and the tokenizer has no bos token to start from");
            }
            return keepLast(t, max);
        }
        int[] kept = keepLast(t, max - 1);
        int[] r = new int[kept.length + 1];
        r[0] = b;
        System.arraycopy(kept, 0, r, 1, kept.length);
        return r;
    }

    static int[] keepLast(int[] t, int max) {
        return t.length > max ? Arrays.copyOfRange(t, t.length - max, t.length) : t;
    }
}
