package io.cohx.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damaged, truncated and wrong-type tokenizer files fail with a message naming the file and the problem. */
class BadTokenizerFileTest {

    @TempDir
    Path dir;

    private void assertFails(Path file, String... fragments) {
        var e = assertThrows(TokenizerException.class, () -> Tokenizers.load(file));
        assertTrue(e.getMessage().contains(file.toString()), "message does not name the file: " + e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message lacks '" + f + "': " + e.getMessage());
        }
    }

    @Test
    void truncatedSentencePieceModel() throws IOException {
        byte[] model = Files.readAllBytes(TestTokenizerFiles.mistralV1());
        Path file = dir.resolve("tokenizer.model");
        Files.write(file, Arrays.copyOf(model, model.length / 2 + 7));
        assertFails(file, "truncated");
    }

    @Test
    void jsonNamedModelIsReadAsTokenizerJson() throws IOException {
        // Recognised by content: a JSON with a "model" object is a tokenizer.json whatever its name.
        Path file = Files.writeString(dir.resolve("tokenizer.model"), "{\"model\": {\"type\": \"BPE\"}}");
        assertFails(file, "model.vocab is missing");
    }

    @Test
    void ggufTiktokenMergesAndConfigAreNamed() throws IOException {
        assertFails(Files.write(dir.resolve("model.bin"), new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0}), "GGUF", "gguf::");
        assertFails(Files.writeString(dir.resolve("tokenizer.model"), "IQ== 0\nIg== 1\n"), "tiktoken", "tokenizer.json");
        assertFails(Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b\n"), "merges", "vocab.json");
        assertFails(Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"x\"}"), "tokenizer_config.json");
    }

    @Test
    void unsupportedComponentsNameTheField() throws IOException {
        String base = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, %s}";
        assertFails(Files.writeString(dir.resolve("a.json"), base.formatted("\"pre_tokenizer\": {\"type\": \"Whitespace\"}")),
                "pre_tokenizer has type 'Whitespace'", "Metaspace");
        assertFails(Files.writeString(dir.resolve("b.json"), base.formatted("\"normalizer\": {\"type\": \"Sequence\", "
                + "\"normalizers\": [{\"type\": \"BertNormalizer\"}]}, \"decoder\": {\"type\": \"Fuse\"}")),
                "normalizer.normalizers[0] has type 'BertNormalizer'");
        assertFails(Files.writeString(dir.resolve("c.json"), base.formatted("\"decoder\": {\"type\": \"WordPiece\"}")),
                "decoder has type 'WordPiece'");
    }

    @Test
    void unknownGgufPreTokenizerIsNamed() {
        var v = new Vocabulary("gpt2", "deepseek-llm", java.util.List.of("a"), null, null, java.util.List.of(), -1, -1, -1, -1,
                false, false);
        var e = assertThrows(TokenizerException.class, () -> Tokenizers.fromVocabulary(v, "x.gguf"));
        assertTrue(e.getMessage().contains("x.gguf") && e.getMessage().contains("deepseek-llm") && e.getMessage().contains("smollm"),
                e.getMessage());
        var k = new Vocabulary("bert", null, java.util.List.of("a"), null, null, null, -1, -1, -1, -1, false, false);
        e = assertThrows(TokenizerException.class, () -> Tokenizers.fromVocabulary(k, "y.gguf"));
        assertTrue(e.getMessage().contains("y.gguf") && e.getMessage().contains("'bert'"), e.getMessage());
    }

    @Test
    void emptyModel() throws IOException {
        assertFails(Files.write(dir.resolve("empty.model"), new byte[0]), "empty");
    }

    @Test
    void textPassedAsModel() throws IOException {
        Path file = Files.writeString(dir.resolve("notes.model"), "these are notes, not a model\n");
        assertFails(file, "not a valid SentencePiece model");
    }

    @Test
    void sentencePieceModelIsRecognisedByContent() throws IOException {
        // Mistral ships tokenizer.model.v1; a misnamed file loads too.
        for (String name : new String[] {"tokenizer.model.v1", "tokenizer.json"}) {
            Path file = dir.resolve(name);
            Files.copy(TestTokenizerFiles.mistralV1(), file);
            assertTrue(Tokenizers.load(file) instanceof SentencePieceTokenizer, name);
        }
    }

    @Test
    void truncatedTokenizerJson() throws IOException {
        Path full = TestTokenizerFiles.resourceCopy("/tokenizer/gptj-tokenizer.json.gz", dir, "full.json");
        byte[] data = Files.readAllBytes(full);
        Path file = Files.write(dir.resolve("tokenizer.json"), Arrays.copyOf(data, data.length / 3));
        assertFails(file, "invalid JSON", "line");
    }

    @Test
    void unigramTokenizerJsonIsRefused() throws IOException {
        Path file = Files.writeString(dir.resolve("tokenizer.json"),
                "{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", -1.0]]}}");
        assertFails(file, "model.type is 'Unigram'");
    }

    @Test
    void mergeWithUnknownToken() throws IOException {
        Path vocab = Files.writeString(dir.resolve("vocab.json"), byteVocab("\"ab\": 256"));
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b\nab zz\n");
        var e = assertThrows(TokenizerException.class, () -> Tokenizers.load(vocab));
        assertTrue(e.getMessage().contains("merges.txt:3"), e.getMessage());
        assertTrue(e.getMessage().contains("'zz'"), e.getMessage());
    }

    @Test
    void vocabWithoutAllBytes() throws IOException {
        Path vocab = Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0, \"b\": 1}");
        Files.writeString(dir.resolve("merges.txt"), "");
        assertFails(vocab, "no token for byte");
    }

    @Test
    void missingMergesBesideVocab() throws IOException {
        Path vocab = Files.writeString(dir.resolve("vocab.json"), byteVocab(""));
        var e = assertThrows(TokenizerException.class, () -> Tokenizers.load(vocab));
        assertTrue(e.getMessage().contains("merges.txt") && e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void missingFileAndUnknownType() throws IOException {
        assertFails(dir.resolve("nope.model"), "no such file");
        assertFails(Files.writeString(dir.resolve("tokenizer.txt"), "x"), "unknown tokenizer file type");
        var e = assertThrows(TokenizerException.class, () -> Tokenizers.load(dir));
        assertTrue(e.getMessage().contains("no tokenizer.model"), e.getMessage());
    }

    /** A JSON vocabulary with all 256 byte tokens (GPT-2 spelling) plus {@code extra}. */
    private static String byteVocab(String extra) {
        var sb = new StringBuilder("{");
        for (int b = 0; b < 256; b++) {
            String s = String.valueOf(ByteLevelBpeLoader.BYTE_TO_CHAR[b]);
            sb.append('"').append(s.equals("\"") || s.equals("\\") ? "\\" + s : s).append("\": ").append(b).append(", ");
        }
        if (extra.isEmpty()) sb.setLength(sb.length() - 2);
        else sb.append(extra);
        return sb.append('}').toString();
    }

    @Test
    void byteVocabHelperIsValidJson() throws IOException {
        Path vocab = Files.writeString(dir.resolve("vocab.json"), byteVocab("\"ab\": 256"), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("merges.txt"), "a b\n");
        Tokenizer t = Tokenizers.load(vocab);
        assertTrue(Arrays.equals(new int[] {256, 'c'}, t.encode("abc")), Arrays.toString(t.encode("abc")));
    }
}
