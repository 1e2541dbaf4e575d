package io.cohx.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every tokenizer against the reference libraries' golden ids for the whole corpus (5,000+
 * strings): encode must match 100%, decode(encode(s)) must equal the reference's decode, the
 * incremental decoder must produce the same text, and decoding random id sequences (byte pieces,
 * control ids, broken UTF-8) must equal the reference's decode.
 */
class GoldenParityTest {

    @TempDir
    static Path tmp;

    static Stream<Arguments> tokenizers() {
        return Stream.of(
                Arguments.of("mistral-v1", (Callable<Tokenizer>) () -> Tokenizers.load(TestTokenizerFiles.mistralV1())),
                Arguments.of("mistral-v3", (Callable<Tokenizer>) () -> Tokenizers.load(TestTokenizerFiles.mistralV3())),
                Arguments.of("sp-unigram-nfkc", (Callable<Tokenizer>) () -> Tokenizers.load(
                        TestTokenizerFiles.resourceCopy("/tokenizer/sp-unigram-nfkc.model", tmp, "unigram.model"))),
                Arguments.of("sp-bpe-unk", (Callable<Tokenizer>) () -> Tokenizers.load(
                        TestTokenizerFiles.resourceCopy("/tokenizer/sp-bpe-unk.model", tmp, "bpe.model"))),
                Arguments.of("gpt2", (Callable<Tokenizer>) () -> Tokenizers.load("gpt2")),
                Arguments.of("gpt2-hf", (Callable<Tokenizer>) () -> Tokenizers.load(TestTokenizerFiles.gpt2Vocab())),
                Arguments.of("gptj-json", (Callable<Tokenizer>) () -> {
                    Path dir = Files.createDirectories(tmp.resolve("gptj"));
                    return Tokenizers.load(TestTokenizerFiles.resourceCopy("/tokenizer/gptj-tokenizer.json.gz", dir,
                            "tokenizer.json"));
                }),
                Arguments.of("gptj-json", (Callable<Tokenizer>) () -> Tokenizers.load("gptj")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tokenizers")
    void matchesReference(String name, Callable<Tokenizer> open) throws Exception {
        Tokenizer tok = open.call();
        Golden.File golden = Golden.load(name);
        assertTrue(golden.encoded().size() >= 5000, "corpus too small: " + golden.encoded().size());
        var failures = new ArrayList<String>();
        List<int[]> batch = tok.encodeBatch(golden.encoded().stream().map(Golden.Encoded::text).toList());
        for (int k = 0; k < golden.encoded().size(); k++) {
            Golden.Encoded g = golden.encoded().get(k);
            int[] ids = tok.encode(g.text());
            if (!Arrays.equals(ids, g.ids())) {
                failures.add("encode #" + g.index() + " " + quote(g.text()) + "\n  want " + Arrays.toString(g.ids())
                        + "\n  got  " + Arrays.toString(ids));
                continue;
            }
            if (!Arrays.equals(batch.get(k), ids)) failures.add("encodeBatch #" + g.index() + " differs from encode");
            String decoded = tok.decode(ids);
            if (!decoded.equals(g.decoded())) {
                failures.add("decode #" + g.index() + " want " + quote(g.decoded()) + " got " + quote(decoded));
            }
            String streamed = streamed(tok, ids);
            if (!streamed.equals(decoded)) {
                failures.add("incremental decode #" + g.index() + " want " + quote(decoded) + " got " + quote(streamed));
            }
        }
        for (Golden.Decoded d : golden.decoded()) {
            String decoded = tok.decode(d.ids());
            if (!decoded.equals(d.decoded())) {
                failures.add("decode " + Arrays.toString(d.ids()) + " want " + quote(d.decoded()) + " got " + quote(decoded));
            } else if (!streamed(tok, d.ids()).equals(decoded)) {
                failures.add("incremental decode " + Arrays.toString(d.ids()) + " got " + quote(streamed(tok, d.ids())));
            }
        }
        if (!failures.isEmpty()) {
            fail(name + ": " + failures.size() + " mismatches with the reference; first ones:\n"
                    + String.join("\n", failures.subList(0, Math.min(8, failures.size()))));
        }
    }

    /** Text of {@code ids} fed one at a time; every piece handed out must be whole UTF-16. */
    private static String streamed(Tokenizer tok, int[] ids) {
        var dec = tok.incrementalDecoder();
        var sb = new StringBuilder();
        for (int id : ids) {
            String part = dec.push(id);
            if (!part.isEmpty() && (Character.isHighSurrogate(part.charAt(part.length() - 1))
                    || Character.isLowSurrogate(part.charAt(0)))) {
                throw new AssertionError("incremental decoder split a surrogate pair: " + quote(part));
            }
            sb.append(part);
        }
        return sb.append(dec.flush()).toString();
    }

    static String quote(String s) {
        var sb = new StringBuilder("\"");
        s.codePoints().limit(120).forEach(cp -> {
            if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) sb.append(String.format("\\x%02x", cp));
            else sb.appendCodePoint(cp);
        });
        if (s.codePointCount(0, s.length()) > 120) sb.append("...");
        return sb.append('"').toString();
    }

}
