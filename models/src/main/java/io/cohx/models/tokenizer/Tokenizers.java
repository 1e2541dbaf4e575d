package io.cohx.models.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens a tokenizer from what a user passes on the command line or in a config: a built-in name
 * ({@code gpt2}, {@code gptj}), a SentencePiece {@code tokenizer.model}, a Hugging Face
 * {@code tokenizer.json}, a GPT-2 {@code vocab.json} (with {@code merges.txt} beside it), or a
 * model directory holding one of those. Errors name the path and say what was expected.
 */
public final class Tokenizers {

    private Tokenizers() {}

    /** A built-in name or a path; see the class comment. */
    public static Tokenizer load(String spec) {
        return switch (spec) {
            case "gpt2" -> ByteLevelBpeLoader.gpt2();
            case "gptj", "gpt-j" -> ByteLevelBpeLoader.gptj();
            default -> load(Path.of(spec));
        };
    }

    public static Tokenizer load(Path path) {
        if (Files.isDirectory(path)) {
            for (String name : new String[] {"tokenizer.model", "tokenizer.json", "vocab.json"}) {
                if (Files.isRegularFile(path.resolve(name))) return load(path.resolve(name));
            }
            throw new TokenizerException(path + ": directory has no tokenizer.model, tokenizer.json or vocab.json");
        }
        if (!Files.exists(path)) {
            throw new TokenizerException(path + ": no such file; pass a tokenizer.model, tokenizer.json, vocab.json, "
                    + "a directory holding one, or a built-in name (gpt2, gptj)");
        }
        String name = path.getFileName().toString();
        if (name.endsWith(".model")) return SentencePieceTokenizer.load(path);
        if (name.equals("vocab.json") || name.equals("encoder.json")) {
            Path merges = path.resolveSibling(name.equals("vocab.json") ? "merges.txt" : "vocab.bpe");
            return ByteLevelBpeLoader.fromVocabAndMerges(path, merges);
        }
        if (name.endsWith(".json")) return ByteLevelBpeLoader.fromTokenizerJson(path);
        throw new TokenizerException(path + ": unknown tokenizer file type; expected *.model (SentencePiece), "
                + "tokenizer.json, or vocab.json with merges.txt");
    }
}
