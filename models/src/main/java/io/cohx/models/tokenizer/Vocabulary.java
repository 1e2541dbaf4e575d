package io.cohx.models.tokenizer;

import java.util.List;

/**
 * A tokenizer's whole vocabulary as model files carry it (GGUF's {@code tokenizer.ggml.*} keys):
 * enough to rebuild the tokenizer ({@link Tokenizers#fromVocabulary}) and to write it into another
 * file. {@code kind} is {@code "gpt2"} (byte-level BPE with merges) or {@code "llama"}
 * (SentencePiece-style BPE with scores and byte fallback), as GGUF's {@code tokenizer.ggml.model}.
 * Absent arrays are {@code null}; absent ids are -1. Token types are llama.cpp's: 1 normal,
 * 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
 */
public record Vocabulary(
        String kind,
        String preTokenizer,
        List<String> tokens,
        float[] scores,
        int[] tokenTypes,
        List<String> merges,
        int bosId,
        int eosId,
        int padId,
        int unkId,
        boolean addBos,
        boolean addEos) {}
