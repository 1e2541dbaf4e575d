package io.cohx.models.tokenizer;

import java.util.List;

/**
 * The one tokenizer interface the rest of cohx uses (data packing, training, serving,
 * evaluation). {@link #encode} never adds bos/eos: callers that want them (the TextProcessor's
 * {@code <|bos|>}/{@code <|eos|>} fields, the server's {@code add_bos_token}) add the ids
 * themselves. Implementations are immutable and safe to share between threads. Open one with
 * {@link Tokenizers#load(String)} (a tokenizer.model, tokenizer.json, vocab.json, a model
 * directory, or the built-in {@code gpt2}/{@code gptj}) or {@link Tokenizers#fromVocabulary}.
 */
public interface Tokenizer {

    /**
     * What happens to text that spells one of the tokenizer's special (control) tokens, such as
     * {@code <|endoftext|>}, {@code </s>} or {@code <|im_start|>}. Tokens that a tokenizer.json
     * declares as non-special added tokens (and SentencePiece user-defined pieces) are matched
     * in text either way, as the reference libraries do.
     */
    enum SpecialTokens {
        /**
         * The text becomes the special token's id, as Hugging Face tokenizers and llama.cpp
         * ({@code parse_special}) do by default. Use it for text the operator writes or a chat
         * template renders, where {@code <|im_start|>} must be the control token.
         */
        PARSE,
        /**
         * The text is tokenized like any other characters, so data can never inject a control
         * token (Hugging Face's {@code encode_special_tokens=True}, tiktoken's
         * {@code encode_ordinary}). The default of {@link #encode(String)}, and so of training data.
         */
        LITERAL
    }

    /** Token ids of {@code text}, without bos/eos; text spelling a special token stays text ({@link SpecialTokens#LITERAL}). */
    default int[] encode(String text) {
        return encode(text, SpecialTokens.LITERAL);
    }

    /** Token ids of {@code text}, without bos/eos, with special tokens in the text handled as {@code specials} says. */
    int[] encode(String text, SpecialTokens specials);

    /** Encodes many texts, on several threads where that pays; result i belongs to texts[i]. */
    default List<int[]> encodeBatch(List<String> texts) {
        return encodeBatch(texts, SpecialTokens.LITERAL);
    }

    /** {@link #encodeBatch(List)} with special tokens handled as {@code specials} says. */
    default List<int[]> encodeBatch(List<String> texts, SpecialTokens specials) {
        return texts.parallelStream().map(t -> encode(t, specials)).toList();
    }

    /**
     * The whole vocabulary in the form model files carry it (what {@link Tokenizers#fromVocabulary}
     * rebuilds this tokenizer from, and what a GGUF writer stores). Throws a
     * {@link TokenizerException} saying why for a tokenizer that a {@link Vocabulary} cannot
     * describe (for example a unigram SentencePiece model, or a pre-tokenizer without a GGUF name).
     */
    default Vocabulary vocabulary() {
        throw new TokenizerException(getClass().getSimpleName() + " cannot be described as a GGUF-style vocabulary "
                + "(kinds 'gpt2' and 'llama' only)");
    }

    /** The text of {@code ids}; special/control tokens are skipped as the reference libraries do. */
    String decode(int[] ids);

    /** Number of ids the model's embedding must cover. */
    int vocabSize();

    /** Beginning-of-sequence id, or -1 if the tokenizer has none. */
    int bosId();

    /** End-of-sequence id, or -1 if the tokenizer has none. */
    int eosId();

    /** Padding id, or -1 if the tokenizer has none. */
    int padId();

    /** The vocabulary entry of {@code id} as the model file spells it (e.g. {@code ▁the}, {@code Ġthe}, {@code <0x0A>}). */
    String idToPiece(int id);

    /** The id of vocabulary entry {@code piece}, or -1 if there is none. */
    int pieceToId(String piece);

    /** A fresh decoder for streaming generation: feed ids one at a time, get text that is never broken UTF-8. */
    IncrementalDecoder incrementalDecoder();

    /** Turns a stream of ids into text pieces, holding back bytes of an incomplete character. */
    interface IncrementalDecoder {
        /** Adds one id; returns the text that became complete (possibly empty). */
        String push(int id);

        /** Whatever is still held back, with incomplete sequences replaced as decode would. */
        String flush();
    }
}
