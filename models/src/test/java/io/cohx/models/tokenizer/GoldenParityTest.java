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
import java.util.Set;
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

    /** Golden files that carry the parsed ids themselves (the others have a golden-parse-NAME file). */
    private static final Set<String> WITH_PARSE = Set.of("llama2-json", "llama2-metaspace-json", "llama3-json",
            "qwen3-json", "smollm2-gguf");

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
                Arguments.of("gptj-json", (Callable<Tokenizer>) () -> Tokenizers.load(gptjJson())),
                Arguments.of("gptj-json", (Callable<Tokenizer>) () -> Tokenizers.load("gptj")),
                Arguments.of("llama2-json", (Callable<Tokenizer>) () -> Tokenizers.load(llama2Json())),
                Arguments.of("llama2-metaspace-json", (Callable<Tokenizer>) () -> Tokenizers.load(llama2MetaspaceJson())),
                Arguments.of("llama3-json", (Callable<Tokenizer>) () -> Tokenizers.load(TestTokenizerFiles.llama3Json())),
                Arguments.of("qwen3-json", (Callable<Tokenizer>) () -> Tokenizers.load(TestTokenizerFiles.qwen3Json())),
                Arguments.of("smollm2-gguf", (Callable<Tokenizer>) () -> Tokenizers.fromVocabulary(
                        TestTokenizerFiles.smollm2Bundled().vocabulary())),
                // The same tokenizers rebuilt from their own vocabulary(), as a GGUF file would carry them.
                Arguments.of("mistral-v1", (Callable<Tokenizer>) () -> viaVocabulary(Tokenizers.load(TestTokenizerFiles.mistralV1()))),
                Arguments.of("mistral-v3", (Callable<Tokenizer>) () -> viaVocabulary(Tokenizers.load(TestTokenizerFiles.mistralV3()))),
                Arguments.of("gpt2-hf", (Callable<Tokenizer>) () -> viaVocabulary(Tokenizers.load(TestTokenizerFiles.gpt2Vocab()))),
                Arguments.of("gptj-json", (Callable<Tokenizer>) () -> viaVocabulary(Tokenizers.load(gptjJson()))),
                Arguments.of("llama3-json", (Callable<Tokenizer>) () -> viaVocabulary(Tokenizers.load(TestTokenizerFiles.llama3Json()))),
                Arguments.of("qwen3-json", (Callable<Tokenizer>) () -> viaVocabulary(Tokenizers.load(TestTokenizerFiles.qwen3Json()))));
    }

    private static Tokenizer viaVocabulary(Tokenizer t) {
        return Tokenizers.fromVocabulary(t.vocabulary());
    }

    static Path gptjJson() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("gptj"));
        return TestTokenizerFiles.resourceCopy("/tokenizer/gptj-tokenizer.json.gz", dir, "tokenizer.json");
    }

    /** Mistral v1's vocabulary in Llama 2's tokenizer.json layout (built by tools/reference/tokenizer_golden.py). */
    static Path llama2Json() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("llama2"));
        return TestTokenizerFiles.resourceCopy("/tokenizer/llama2-style-tokenizer.json.gz", dir, "tokenizer.json");
    }

    /** The newer layout of the same tokenizer: Metaspace (prepend_scheme first), no normalizer; the golden script makes the same edit. */
    static Path llama2MetaspaceJson() throws IOException {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(llama2Json().toFile());
        root.putNull("normalizer");
        var pre = root.putObject("pre_tokenizer");
        pre.put("type", "Metaspace").put("replacement", "\u2581").put("prepend_scheme", "first").put("split", false);
        Path dir = Files.createDirectories(tmp.resolve("llama2-metaspace"));
        Path out = dir.resolve("tokenizer.json");
        json.writeValue(out.toFile(), root);
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tokenizers")
    void matchesReference(String name, Callable<Tokenizer> open) throws Exception {
        Tokenizer tok = open.call();
        Golden.File golden = Golden.load(name);
        var literal = golden.encoded().stream().filter(g -> g.ids() != null && g.index() >= 0).toList();
        assertTrue(literal.size() >= 5000, "corpus too small: " + literal.size());
        var failures = new ArrayList<String>();
        List<int[]> batch = tok.encodeBatch(literal.stream().map(Golden.Encoded::text).toList());
        for (int k = 0; k < literal.size(); k++) {
            Golden.Encoded g = literal.get(k);
            int[] ids = tok.encode(g.text());
            if (!Arrays.equals(ids, g.ids())) {
                failures.add("encode #" + g.index() + " " + quote(g.text()) + "\n  want " + Arrays.toString(g.ids())
                        + "\n  got  " + Arrays.toString(ids));
                continue;
            }
            if (!Arrays.equals(batch.get(k), ids)) failures.add("encodeBatch #" + g.index() + " differs from encode");
            checkDecode(tok, ids, g.decoded(), "#" + g.index(), failures);
        }
        for (Golden.Decoded d : golden.decoded()) {
            checkDecode(tok, d.ids(), d.decoded(), Arrays.toString(d.ids()), failures);
        }
        report(name, failures);
    }

    /** Special tokens in text: literal and parsed ids on the special corpus, parsed ids on the main corpus. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("tokenizers")
    void specialTokensMatchReference(String name, Callable<Tokenizer> open) throws Exception {
        Tokenizer tok = open.call();
        Golden.File golden = Golden.load(WITH_PARSE.contains(name) ? name : "parse-" + name);
        var failures = new ArrayList<String>();
        int checked = 0;
        for (Golden.Encoded g : golden.encoded()) {
            if (g.ids() != null && g.index() < 0) {
                int[] ids = tok.encode(g.text(), Tokenizer.SpecialTokens.LITERAL);
                if (!Arrays.equals(ids, g.ids())) {
                    failures.add("literal special #" + g.index() + " " + quote(g.text()) + "\n  want " + Arrays.toString(g.ids())
                            + "\n  got  " + Arrays.toString(ids));
                    continue;
                }
                checkDecode(tok, ids, g.decoded(), "literal special #" + g.index(), failures);
            }
            if (g.parsed() == null) continue;
            checked++;
            int[] parsed = tok.encode(g.text(), Tokenizer.SpecialTokens.PARSE);
            if (!Arrays.equals(parsed, g.parsed())) {
                failures.add("parse #" + g.index() + " " + quote(g.text()) + "\n  want " + Arrays.toString(g.parsed())
                        + "\n  got  " + Arrays.toString(parsed));
                continue;
            }
            checkDecode(tok, parsed, g.parsedDecoded(), "parse #" + g.index(), failures);
        }
        assertTrue(checked >= 200, name + ": only " + checked + " parse rows");
        report(name, failures);
    }

    private static void checkDecode(Tokenizer tok, int[] ids, String want, String what, List<String> failures) {
        String decoded = tok.decode(ids);
        if (!decoded.equals(want)) {
            failures.add("decode " + what + " want " + quote(want) + " got " + quote(decoded));
            return;
        }
        String streamed = streamed(tok, ids);
        if (!streamed.equals(decoded)) failures.add("incremental decode " + what + " want " + quote(decoded) + " got " + quote(streamed));
    }

    private static void report(String name, List<String> failures) {
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
