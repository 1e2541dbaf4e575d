package io.cohx.models.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Test-only: the metadata key/values of a GGUF file (v2/v3), enough to build the
 * {@link Vocabulary} of {@code tokenizer.ggml.*} and read {@code tokenizer.chat_template}, so the
 * tokenizer tests can check {@link Tokenizers#fromVocabulary} on SmolLM2's real vocabulary. The
 * product's GGUF reader lives with the model loading code (the gguf branch); once it is merged
 * these tests should use it and this class goes away.
 */
final class GgufTestMetadata {

    private GgufTestMetadata() {}

    static Map<String, Object> read(Path file) throws IOException {
        try (var ch = FileChannel.open(file)) {
            long size = Math.min(ch.size(), 64L << 20); // metadata comes first; 64 MiB is plenty
            ByteBuffer b = ch.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
            if (b.getInt() != 0x46554747) throw new IOException(file + ": not a GGUF file");
            int version = b.getInt();
            if (version < 2) throw new IOException(file + ": GGUF version " + version);
            b.getLong(); // tensor count
            long kvs = b.getLong();
            var out = new HashMap<String, Object>();
            for (long i = 0; i < kvs; i++) {
                String key = string(b);
                out.put(key, value(b, b.getInt()));
            }
            return out;
        }
    }

    static Vocabulary vocabulary(Map<String, Object> kv) {
        @SuppressWarnings("unchecked")
        List<String> tokens = (List<String>) kv.get("tokenizer.ggml.tokens");
        @SuppressWarnings("unchecked")
        List<String> merges = (List<String>) kv.get("tokenizer.ggml.merges");
        int[] types = ints(kv.get("tokenizer.ggml.token_type"));
        float[] scores = null;
        if (kv.get("tokenizer.ggml.scores") instanceof List<?> l) {
            scores = new float[l.size()];
            for (int i = 0; i < scores.length; i++) scores[i] = ((Number) l.get(i)).floatValue();
        }
        return new Vocabulary((String) kv.get("tokenizer.ggml.model"), (String) kv.get("tokenizer.ggml.pre"), tokens, scores,
                types, merges, id(kv, "bos_token_id"), id(kv, "eos_token_id"), id(kv, "padding_token_id"),
                id(kv, "unknown_token_id"), Boolean.TRUE.equals(kv.get("tokenizer.ggml.add_bos_token")),
                Boolean.TRUE.equals(kv.get("tokenizer.ggml.add_eos_token")));
    }

    private static int id(Map<String, Object> kv, String key) {
        Object v = kv.get("tokenizer.ggml." + key);
        return v == null ? -1 : ((Number) v).intValue();
    }

    private static int[] ints(Object o) {
        if (!(o instanceof List<?> l)) return null;
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) l.get(i)).intValue();
        return out;
    }

    private static String string(ByteBuffer b) {
        byte[] s = new byte[(int) b.getLong()];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static Object value(ByteBuffer b, int type) throws IOException {
        return switch (type) {
            case 0 -> b.get() & 0xFF;
            case 1 -> (int) b.get();
            case 2 -> b.getShort() & 0xFFFF;
            case 3 -> (int) b.getShort();
            case 4 -> b.getInt() & 0xFFFFFFFFL;
            case 5 -> b.getInt();
            case 6 -> b.getFloat();
            case 7 -> b.get() != 0;
            case 8 -> string(b);
            case 9 -> {
                int t = b.getInt();
                long n = b.getLong();
                var list = new ArrayList<>((int) n);
                for (long i = 0; i < n; i++) list.add(value(b, t));
                yield list;
            }
            case 10 -> b.getLong();
            case 11 -> b.getLong();
            case 12 -> b.getDouble();
            default -> throw new IOException("GGUF value type " + type);
        };
    }
}
