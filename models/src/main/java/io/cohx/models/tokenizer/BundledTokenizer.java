package io.cohx.models.tokenizer;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.models.checkpoint.AtomicFiles;
import io.cohx.models.checkpoint.CheckpointException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer a model file carries with its weights: the whole {@link Vocabulary} and the chat
 * template (Jinja source, or null), as GGUF's {@code tokenizer.*} keys hold them. A cohx
 * checkpoint keeps them as {@code vocabulary.json} and {@code chat_template.jinja} beside its
 * manifest (docs/CHECKPOINTS.md), so a model imported from GGUF can be served and exported again
 * without the original file.
 */
public record BundledTokenizer(Vocabulary vocabulary, String chatTemplate) {
    public static final String VOCABULARY_FILE = "vocabulary.json";
    public static final String CHAT_TEMPLATE_FILE = "chat_template.jinja";

    private static final ObjectMapper JSON = new ObjectMapper();

    public BundledTokenizer {
        if (vocabulary == null) {
            throw new IllegalArgumentException("a bundled tokenizer needs a vocabulary");
        }
    }

    /** Writes {@code vocabulary.json} (and {@code chat_template.jinja} when there is a template) into {@code dir}. */
    public void writeTo(Path dir) {
        Vocabulary v = vocabulary;
        var m = new LinkedHashMap<String, Object>();
        m.put("format", "cohx-vocabulary");
        m.put("kind", v.kind());
        m.put("pre_tokenizer", v.preTokenizer());
        m.put("bos_id", v.bosId());
        m.put("eos_id", v.eosId());
        m.put("pad_id", v.padId());
        m.put("unk_id", v.unkId());
        m.put("add_bos", v.addBos());
        m.put("add_eos", v.addEos());
        m.put("tokens", v.tokens());
        m.put("scores", v.scores());
        m.put("token_types", v.tokenTypes());
        m.put("merges", v.merges());
        try {
            AtomicFiles.writeString(dir.resolve(VOCABULARY_FILE), JSON.writeValueAsString(m) + "\n");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        if (chatTemplate != null) {
            AtomicFiles.writeString(dir.resolve(CHAT_TEMPLATE_FILE), chatTemplate);
        }
    }

    /** The tokenizer kept in checkpoint folder {@code dir}, or null when it has none. */
    public static BundledTokenizer readFrom(Path dir) {
        Path vf = dir.resolve(VOCABULARY_FILE);
        if (!Files.isRegularFile(vf)) {
            return null;
        }
        Map<String, Object> m;
        try {
            m = JSON.readValue(vf.toFile(), new TypeReference<LinkedHashMap<String, Object>>() {});
        } catch (IOException e) {
            throw new CheckpointException(vf + " is not a cohx vocabulary file: " + e.getMessage(), e);
        }
        if (m == null || !"cohx-vocabulary".equals(m.get("format"))) {
            throw new CheckpointException(vf + " is not a cohx vocabulary file (no \"format\": \"cohx-vocabulary\")");
        }
        try {
            var v = new Vocabulary((String) m.get("kind"), (String) m.get("pre_tokenizer"), strings(m.get("tokens")),
                    floats(m.get("scores")), ints(m.get("token_types")), strings(m.get("merges")),
                    ((Number) m.get("bos_id")).intValue(), ((Number) m.get("eos_id")).intValue(),
                    ((Number) m.get("pad_id")).intValue(), ((Number) m.get("unk_id")).intValue(),
                    (Boolean) m.get("add_bos"), (Boolean) m.get("add_eos"));
            if (v.kind() == null || v.tokens() == null) {
                throw new CheckpointException(vf + " lacks \"kind\" or \"tokens\"");
            }
            Path tf = dir.resolve(CHAT_TEMPLATE_FILE);
            return new BundledTokenizer(v, Files.isRegularFile(tf) ? Files.readString(tf) : null);
        } catch (ClassCastException | NullPointerException e) {
            throw new CheckpointException(vf + " has a key of the wrong type or a missing id: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + dir.resolve(CHAT_TEMPLATE_FILE) + ": " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Object o) {
        return o == null ? null : List.copyOf((List<String>) o);
    }

    private static float[] floats(Object o) {
        if (o == null) {
            return null;
        }
        List<?> l = (List<?>) o;
        float[] a = new float[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = ((Number) l.get(i)).floatValue();
        }
        return a;
    }

    private static int[] ints(Object o) {
        if (o == null) {
            return null;
        }
        List<?> l = (List<?>) o;
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = ((Number) l.get(i)).intValue();
        }
        return a;
    }
}
