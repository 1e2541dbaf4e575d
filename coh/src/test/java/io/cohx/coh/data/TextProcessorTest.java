package io.cohx.coh.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.Tokenizers;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Each TextProcessor rule of docs/COH.md#textprocessor on the real GPT-2 tokenizer: expected sequences are
 * assembled from the tokenizer's encodings of the pieces the rule names.
 */
class TextProcessorTest {

    static final Tokenizer GPT2 = Tokenizers.load("gpt2");
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode json(String s) {
        try {
            return JSON.readTree(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Builds the expected (tokens, masks) from pieces: int[] ids with a mask each. */
    private static TextProcessor.Encoded expected(Object... idsAndMasks) {
        int[] t = new int[0];
        float[] m = new float[0];
        for (int i = 0; i < idsAndMasks.length; i += 2) {
            int[] ids = (int[]) idsAndMasks[i];
            float mask = ((Number) idsAndMasks[i + 1]).floatValue();
            int n = t.length;
            t = Arrays.copyOf(t, n + ids.length);
            m = Arrays.copyOf(m, n + ids.length);
            System.arraycopy(ids, 0, t, n, ids.length);
            Arrays.fill(m, n, n + ids.length, mask);
        }
        return new TextProcessor.Encoded(t, m);
    }

    private static void check(TextProcessor.Encoded want, TextProcessor.Encoded got) {
        assertArrayEquals(want.tokens(), got.tokens(), "tokens");
        assertArrayEquals(want.masks(), got.masks(), "masks");
    }

    private static final String EXAMPLE = "{\"marker_user\": \"User:\", \"marker_gpt\": \"A helpful answer:\","
            + " \"human_0\": \"Hi there\", \"gpt_1\": \"Hello, how can I help?\","
            + " \"fields\": \"[marker_user+human_0+marker_gpt],gpt_1,<|eos|>\"}";

    @Test
    void gpt2TokenizerIsTheRealOne() {
        assertArrayEquals(new int[] {15496, 995}, GPT2.encode("Hello world"));
    }

    @Test
    void bracketedFieldIsMaskedSubfieldsJoinedAndEosAppended() {
        var tp = new TextProcessor(GPT2, TextProcessor.Config.feedback());
        int eos = GPT2.eosId();
        check(expected(GPT2.encode("User: Hi there A helpful answer:"), 0, GPT2.encode("Hello, how can I help?"), 1,
                new int[] {eos}, 1, new int[] {eos}, 1), tp.encode(json(EXAMPLE)));
    }

    @Test
    void specialTokensTakeTheFieldsMaskAndAddEosCanBeOff() {
        var tp = new TextProcessor(GPT2, new TextProcessor.Config("[<|bos|>],gpt_1,[<|eos|>]", "", " ", false, ""));
        check(expected(new int[] {GPT2.bosId()}, 0, GPT2.encode("Hello, how can I help?"), 1, new int[] {GPT2.eosId()}, 0),
                tp.encode(json(EXAMPLE)));
    }

    @Test
    void prependTextGoesBeforeTheFirstFieldOnlyAndSeparatorIsConfigurable() {
        var tp = new TextProcessor(GPT2, new TextProcessor.Config("human_0+gpt_1,[human_0]", "", " | ", true, "Q: "));
        check(expected(GPT2.encode("Q: Hi there | Hello, how can I help?"), 1, GPT2.encode("Hi there"), 0,
                new int[] {GPT2.eosId()}, 1), tp.encode(json(EXAMPLE)));
        // The first field is a special token: nothing to prepend to, and later text fields get none.
        var bosFirst = new TextProcessor(GPT2, new TextProcessor.Config("<|bos|>,human_0", "", " ", false, "Q: "));
        check(expected(new int[] {GPT2.bosId()}, 1, GPT2.encode("Hi there"), 1), bosFirst.encode(json(EXAMPLE)));
    }

    @Test
    void textFieldForPretraining() {
        var tp = new TextProcessor(GPT2, TextProcessor.Config.text("text"));
        check(expected(GPT2.encode("Plain text."), 1, new int[] {GPT2.eosId()}, 1),
                tp.encode(json("{\"text\": \"Plain text.\"}")));
    }

    @Test
    void missingFieldIsNamed() {
        var tp = new TextProcessor(GPT2, TextProcessor.Config.feedback());
        var e = assertThrows(DataException.class, () -> tp.encode(json(
                "{\"marker_user\": \"User:\", \"fields\": \"[marker_user+human_0],gpt_1\"}")));
        assertTrue(e.getMessage().startsWith("missing field 'human_0' (named in fields '[marker_user+human_0],gpt_1')"),
                e.getMessage());
        e = assertThrows(DataException.class, () -> tp.encode(json("{\"text\": \"x\"}")));
        assertTrue(e.getMessage().startsWith("missing field 'fields'"), e.getMessage());
    }

    /** Text spelling the end-of-text token stays text by default; parsed only when the config says so. */
    @Test
    void specialTokensInDataAreLiteralUnlessConfigured() {
        String ex = "{\"text\": \"a<|endoftext|>b\"}";
        var literal = new TextProcessor(GPT2, TextProcessor.Config.text("text"));
        int[] lit = literal.encode(json(ex)).tokens();
        assertTrue(java.util.Arrays.stream(lit, 0, lit.length - 1).noneMatch(id -> id == GPT2.eosId()),
                java.util.Arrays.toString(lit));
        var parse = new TextProcessor(GPT2, TextProcessor.Config.text("text")
                .withSpecialTokens(io.cohx.models.tokenizer.Tokenizer.SpecialTokens.PARSE));
        int[] parsed = parse.encode(json(ex)).tokens();
        check(expected(GPT2.encode("a"), 1, new int[] {GPT2.eosId()}, 1, GPT2.encode("b"), 1, new int[] {GPT2.eosId()}, 1),
                parse.encode(json(ex)));
        assertTrue(parsed.length < lit.length);
    }
}
