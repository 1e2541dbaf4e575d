package io.cohx.models.gguf;

import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.tokenizer.BundledTokenizer;
import io.cohx.models.tokenizer.Vocabulary;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer in GGUF metadata ({@code tokenizer.ggml.*} and {@code tokenizer.chat_template})
 * to and from a {@link Vocabulary}. When {@code add_bos_token} is absent, llama.cpp's defaults
 * apply: SentencePiece-style ("llama") vocabularies add BOS, byte-level BPE ("gpt2") ones do not;
 * neither adds EOS. An absent {@code tokenizer.ggml.pre} is "default".
 */
public final class GgufVocabulary {
    private GgufVocabulary() {}

    static final String MODEL = "tokenizer.ggml.model";
    static final String PRE = "tokenizer.ggml.pre";
    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String SCORES = "tokenizer.ggml.scores";
    static final String TYPES = "tokenizer.ggml.token_type";
    static final String MERGES = "tokenizer.ggml.merges";
    static final String BOS = "tokenizer.ggml.bos_token_id";
    static final String EOS = "tokenizer.ggml.eos_token_id";
    static final String PAD = "tokenizer.ggml.padding_token_id";
    static final String UNK = "tokenizer.ggml.unknown_token_id";
    static final String ADD_BOS = "tokenizer.ggml.add_bos_token";
    static final String ADD_EOS = "tokenizer.ggml.add_eos_token";
    static final String CHAT_TEMPLATE = "tokenizer.chat_template";

    /** Vocabulary kinds cohx maps (GGUF's tokenizer.ggml.model). */
    public static final List<String> KINDS = List.of("gpt2", "llama");

    /** The tokenizer of the file {@code r} reads; errors name the file and the missing or malformed key. */
    public static BundledTokenizer read(GgufReader r) {
        return read(r.metadata(), r.source());
    }

    static BundledTokenizer read(Map<String, GgufValue> m, Path source) {
        var k = new GgufKeys(m, source);
        String kind = k.string(MODEL, null);
        if (kind == null) {
            throw new CheckpointException(source + " has no tokenizer metadata (key '" + MODEL + "' is missing); cohx needs "
                    + "the vocabulary in the file (" + MODEL + ", " + TOKENS + "), or pass --tokenizer");
        }
        if (!KINDS.contains(kind)) {
            throw new CheckpointException(source + ": " + MODEL + " is '" + kind + "'; cohx reads the " + KINDS
                    + " vocabularies (byte-level BPE and SentencePiece-style)");
        }
        List<String> tokens = k.strings(TOKENS, true);
        float[] scores = k.has(SCORES) ? k.value(SCORES).asFloats() : null;
        int[] types = k.has(TYPES) ? k.value(TYPES).asInts() : null;
        List<String> merges = k.strings(MERGES, false);
        if (kind.equals("gpt2") && merges == null) {
            throw new CheckpointException(source + ": a gpt2 (byte-level BPE) vocabulary needs '" + MERGES + "', which is missing");
        }
        if (kind.equals("llama") && scores == null) {
            throw new CheckpointException(source + ": a llama (SentencePiece-style) vocabulary needs '" + SCORES + "', which is missing");
        }
        int n = tokens.size();
        if (scores != null && scores.length != n) {
            throw new CheckpointException(source + ": '" + SCORES + "' has " + scores.length + " entries for " + n + " tokens");
        }
        if (types != null && types.length != n) {
            throw new CheckpointException(source + ": '" + TYPES + "' has " + types.length + " entries for " + n + " tokens");
        }
        var v = new Vocabulary(kind, k.string(PRE, "default"), tokens, scores, types, merges,
                k.id(BOS, n), k.id(EOS, n), k.id(PAD, n), k.id(UNK, n),
                k.bool(ADD_BOS, kind.equals("llama")), k.bool(ADD_EOS, false));
        return new BundledTokenizer(v, k.string(CHAT_TEMPLATE, null));
    }

    /** The metadata entries that describe {@code t} in a GGUF file, in llama.cpp's converter's order. */
    public static Map<String, GgufValue> metadata(BundledTokenizer t) {
        Vocabulary v = t.vocabulary();
        var m = new LinkedHashMap<String, GgufValue>();
        m.put(MODEL, GgufValue.string(v.kind()));
        m.put(PRE, GgufValue.string(v.preTokenizer() != null ? v.preTokenizer() : "default"));
        m.put(TOKENS, GgufValue.strings(v.tokens()));
        if (v.scores() != null) {
            m.put(SCORES, GgufValue.f32s(v.scores()));
        }
        if (v.tokenTypes() != null) {
            m.put(TYPES, GgufValue.i32s(v.tokenTypes()));
        }
        if (v.merges() != null) {
            m.put(MERGES, GgufValue.strings(v.merges()));
        }
        putId(m, BOS, v.bosId());
        putId(m, EOS, v.eosId());
        putId(m, UNK, v.unkId());
        putId(m, PAD, v.padId());
        m.put(ADD_BOS, GgufValue.bool(v.addBos()));
        m.put(ADD_EOS, GgufValue.bool(v.addEos()));
        if (t.chatTemplate() != null) {
            m.put(CHAT_TEMPLATE, GgufValue.string(t.chatTemplate()));
        }
        return m;
    }

    private static void putId(Map<String, GgufValue> m, String key, int id) {
        if (id >= 0) {
            m.put(key, GgufValue.u32(id));
        }
    }
}
