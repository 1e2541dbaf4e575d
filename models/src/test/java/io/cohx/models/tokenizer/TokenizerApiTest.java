package io.cohx.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Special ids, vocabulary sizes, piece lookup and streaming decode on the real tokenizers. */
class TokenizerApiTest {

    @Test
    void llamaStyleSentencePiece() {
        Tokenizer t = Tokenizers.load(TestTokenizerFiles.mistralV1());
        assertEquals(32000, t.vocabSize());
        assertEquals(1, t.bosId());
        assertEquals(2, t.eosId());
        assertEquals(-1, t.padId());
        assertEquals("<s>", t.idToPiece(1));
        assertEquals("<0x0A>", t.idToPiece(t.pieceToId("<0x0A>")));
        assertEquals(-1, t.pieceToId("no such piece"));
        // Control pieces in text are plain text: "<s>" is not the bos id.
        int[] ids = t.encode("<s>");
        assertEquals(-1, java.util.Arrays.stream(ids).filter(id -> id == 1).findAny().orElse(-1));
        assertEquals("hello", t.decode(new int[] {1, t.encode("hello")[0], t.encode("hello")[1], 2}).strip());
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {32000}));
        assertEquals(List.of("\u2581Hello", "\u2581world"), ((SentencePieceTokenizer) t).encodeAsPieces("Hello world"));
    }

    @Test
    void streamingHoldsBackIncompleteCharacters() {
        Tokenizer t = Tokenizers.load(TestTokenizerFiles.mistralV1());
        // A rare CJK character goes through byte fallback: three byte pieces.
        int[] ids = t.encode("\u9f98");
        var dec = t.incrementalDecoder();
        var out = new StringBuilder();
        for (int id : ids) out.append(dec.push(id));
        out.append(dec.flush());
        assertEquals(t.decode(ids), out.toString());
        assertEquals("\u9f98", t.decode(ids));

        var gpt = Tokenizers.load("gpt2");
        int[] emoji = gpt.encode("🤖");
        var d2 = gpt.incrementalDecoder();
        assertEquals("", d2.push(emoji[0]));
        var rest = new StringBuilder();
        for (int i = 1; i < emoji.length; i++) rest.append(d2.push(emoji[i]));
        assertEquals("🤖", rest + d2.flush());
    }

    @Test
    void gptjSpecialTokens() {
        Tokenizer t = Tokenizers.load("gptj");
        assertEquals(50400, t.vocabSize());
        assertEquals(50256, t.bosId());
        assertEquals(50256, t.eosId());
        assertEquals(50257, t.pieceToId("<|extratoken_1|>"));
        assertEquals("<|extratoken_143|>", t.idToPiece(50399));
        assertEquals("Hello world", t.decode(new int[] {15496, 995, 50256, 50300}));
        assertArrayEquals(new int[] {15496, 995}, t.encode("Hello world"));
        // Text that looks like a special token stays text.
        assertEquals(false, java.util.Arrays.stream(t.encode("<|endoftext|>")).anyMatch(id -> id == 50256));
        assertEquals(50257, Tokenizers.load("gpt2").vocabSize());
    }

    @Test
    void batchEncodingKeepsOrder() {
        Tokenizer t = Tokenizers.load("gpt2");
        List<String> texts = java.util.stream.IntStream.range(0, 200).mapToObj(i -> "text number " + i).toList();
        List<int[]> batch = t.encodeBatch(texts);
        for (int i = 0; i < texts.size(); i++) assertArrayEquals(t.encode(texts.get(i)), batch.get(i));
    }
}
