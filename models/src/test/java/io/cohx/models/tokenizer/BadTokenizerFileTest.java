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
    void jsonPassedAsModel() throws IOException {
        Path file = Files.writeString(dir.resolve("tokenizer.model"), "{\"model\": {\"type\": \"BPE\"}}");
        assertFails(file, "JSON, not a SentencePiece model");
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
    void sentencePieceModelPassedAsJson() throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.copy(TestTokenizerFiles.mistralV1(), file);
        assertFails(file, "not JSON", "tokenizer.model");
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
