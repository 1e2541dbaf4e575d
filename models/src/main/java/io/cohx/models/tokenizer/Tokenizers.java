package io.cohx.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Opens a tokenizer from what a user passes on the command line or in a config: a built-in name
 * ({@code gpt2}, {@code gptj}), a file, or a model directory holding one. Files are recognised by
 * their content, whatever their name: a SentencePiece model (binary protobuf, such as
 * {@code tokenizer.model} or Mistral's {@code tokenizer.model.v3}), a Hugging Face
 * {@code tokenizer.json} (JSON with a {@code "model"} object), or a GPT-2 {@code vocab.json}
 * (JSON mapping tokens to ids, with {@code merges.txt} beside it). Errors name the path and say
 * what was expected. {@link #fromVocabulary} rebuilds a tokenizer from a GGUF-style vocabulary.
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
                Path f = path.resolve(name);
                // A Llama 3 folder's tokenizer.model is tiktoken text: prefer its tokenizer.json then.
                if (Files.isRegularFile(f) && !(name.equals("tokenizer.model") && sniff(f, head(f)) == Kind.TIKTOKEN
                        && Files.isRegularFile(path.resolve("tokenizer.json")))) {
                    return load(f);
                }
            }
            throw new TokenizerException(path + ": directory has no tokenizer.model, tokenizer.json or vocab.json");
        }
        if (!Files.exists(path)) {
            throw new TokenizerException(path + ": no such file; pass a tokenizer.model, tokenizer.json, vocab.json, "
                    + "a directory holding one, or a built-in name (gpt2, gptj)");
        }
        byte[] head = head(path);
        return switch (sniff(path, head)) {
            case SENTENCEPIECE -> SentencePieceTokenizer.load(path);
            case JSON -> fromJson(path);
            case GGUF -> throw new TokenizerException(path + ": is a GGUF model file; its tokenizer comes with the model "
                    + "(--load-checkpoint gguf::" + path + ")");
            case TIKTOKEN -> throw new TokenizerException(path + ": is a tiktoken BPE ranks file (such as Meta's Llama 3 "
                    + "original/tokenizer.model); pass the tokenizer.json of the Hugging Face release instead");
            case MERGES -> throw new TokenizerException(path + ": is a BPE merges list; pass the vocab.json beside it "
                    + "(cohx reads merges.txt from there)");
            case UNKNOWN -> throw new TokenizerException(path + ": unknown tokenizer file type; expected a SentencePiece "
                    + "model (tokenizer.model), a Hugging Face tokenizer.json, or vocab.json with merges.txt");
        };
    }

    /**
     * A tokenizer from a GGUF-style vocabulary: kind "gpt2" is byte-level BPE with the merges and
     * the pre-tokenizer named by {@link Vocabulary#preTokenizer()} (default/gpt2/gpt-2, llama-bpe,
     * smollm, qwen2, ...); control tokens (type 3) are special tokens and user-defined ones (4)
     * added tokens. Kind "llama" is SentencePiece-style BPE from tokens, scores and types, with a
     * dummy-prefix space and byte fallback.
     */
    public static Tokenizer fromVocabulary(Vocabulary v) {
        return fromVocabulary(v, "vocabulary (kind " + v.kind() + ", pre-tokenizer " + v.preTokenizer() + ")");
    }

    /** {@link #fromVocabulary(Vocabulary)} with {@code source} (such as the GGUF file's path) named in errors. */
    public static Tokenizer fromVocabulary(Vocabulary v, String source) {
        String kind = v.kind() == null ? "" : v.kind();
        return switch (kind) {
            case "gpt2" -> HfTokenizerJson.fromVocabulary(v, source);
            case "llama" -> SentencePieceTokenizer.fromVocabulary(v, source);
            default -> throw new TokenizerException(source + ": tokenizer kind '" + kind + "' (tokenizer.ggml.model) is not "
                    + "one cohx builds; supported: gpt2 (byte-level BPE), llama (SentencePiece-style BPE)");
        };
    }

    private enum Kind { SENTENCEPIECE, JSON, GGUF, TIKTOKEN, MERGES, UNKNOWN }

    private static byte[] head(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(256);
        } catch (NoSuchFileException e) {
            throw new TokenizerException(path + ": no such file", e);
        } catch (IOException e) {
            throw new TokenizerException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static Kind sniff(Path path, byte[] head) {
        if (head.length == 0) {
            if (path.getFileName().toString().endsWith(".model")) return Kind.SENTENCEPIECE; // says "empty"
            if (path.getFileName().toString().endsWith(".json")) return Kind.JSON;
            return Kind.UNKNOWN;
        }
        if (head.length >= 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F') return Kind.GGUF;
        int first = Json.firstNonSpace(head);
        if (first < head.length && (head[first] == '{' || head[first] == '[')) return Kind.JSON;
        // A SentencePiece ModelProto starts with field 1 (pieces), wire type 2: byte 0x0A.
        if (head[0] == 0x0A) return Kind.SENTENCEPIECE;
        String text = new String(head, StandardCharsets.ISO_8859_1);
        if (text.startsWith("#version")) return Kind.MERGES;
        if (text.matches("(?s)[A-Za-z0-9+/=]+ [0-9]+\r?\n.*")) return Kind.TIKTOKEN;
        if (path.getFileName().toString().endsWith(".model")) return Kind.SENTENCEPIECE; // says why it does not parse
        return Kind.UNKNOWN;
    }

    private static Tokenizer fromJson(Path path) {
        JsonNode root = Json.read(path);
        if (root.path("model").isObject()) return HfTokenizerJson.load(path, root);
        if (root.has("chat_template") || root.has("tokenizer_class") || root.has("added_tokens_decoder")) {
            throw new TokenizerException(path + ": is a tokenizer_config.json; pass the tokenizer.json or tokenizer.model "
                    + "beside it, or the folder");
        }
        if (root.isObject() && !root.isEmpty() && root.properties().stream().allMatch(e -> e.getValue().canConvertToInt())) {
            String name = path.getFileName().toString();
            Path merges = path.resolveSibling(name.equals("encoder.json") ? "vocab.bpe" : "merges.txt");
            if (!Files.exists(merges) && Files.exists(path.resolveSibling("vocab.bpe"))) merges = path.resolveSibling("vocab.bpe");
            return ByteLevelBpeLoader.fromVocabAndMerges(path, merges);
        }
        throw new TokenizerException(path + ": JSON but neither a Hugging Face tokenizer.json (no \"model\" object) nor a "
                + "vocab.json (token -> id); pass one of those");
    }
}
