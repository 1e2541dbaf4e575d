package io.cohx.models.tokenizer;

import java.util.List;

/**
 * The one tokenizer interface the rest of cohx uses (data packing, training, serving,
 * evaluation). {@link #encode} never adds bos/eos: callers that want them (the TextProcessor's
 * {@code <|bos|>}/{@code <|eos|>} fields, the server's {@code add_bos_token}) add the ids
 * themselves. Implementations are immutable and safe to share between threads. Open one with
 * {@link Tokenizers#load(String)} (a tokenizer.model, tokenizer.json, vocab.json, a model
 * directory, or the built-in {@code gpt2}/{@code gptj}).
 */
public interface Tokenizer {

    /** Token ids of {@code text}, without bos/eos. */
    int[] encode(String text);

    /** Encodes many texts, on several threads where that pays; result i belongs to texts[i]. */
    default List<int[]> encodeBatch(List<String> texts) {
        return texts.parallelStream().map(this::encode).toList();
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
