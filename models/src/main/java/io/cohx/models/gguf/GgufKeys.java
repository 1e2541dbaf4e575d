package io.cohx.models.gguf;

import io.cohx.models.checkpoint.CheckpointException;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Typed reads of metadata keys; errors name the file and the key. */
final class GgufKeys {
    private final Map<String, GgufValue> m;
    private final Path source;

    GgufKeys(Map<String, GgufValue> m, Path source) {
        this.m = m;
        this.source = source;
    }

    boolean has(String key) {
        return m.containsKey(key);
    }

    GgufValue value(String key) {
        return m.get(key);
    }

    private CheckpointException wrong(String key, String want) {
        return new CheckpointException(source + ": metadata key '" + key + "' is a " + m.get(key).describe() + "; expected " + want);
    }

    String string(String key, String dflt) {
        GgufValue v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (v.type() != GgufValue.Type.STRING) {
            throw wrong(key, "a string");
        }
        return v.asString();
    }

    List<String> strings(String key, boolean required) {
        GgufValue v = m.get(key);
        if (v == null) {
            if (required) {
                throw new CheckpointException(source + " has no '" + key + "' (the tokenizer's token list); cohx needs the"
                        + " vocabulary in the file, or pass --tokenizer");
            }
            return null;
        }
        if (v.elementType() != GgufValue.Type.STRING) {
            throw wrong(key, "an array of strings");
        }
        return v.asStrings();
    }

    long integer(String key, Long dflt) {
        GgufValue v = m.get(key);
        if (v == null) {
            if (dflt == null) {
                throw new CheckpointException(source + " lacks metadata key '" + key + "', which cohx needs");
            }
            return dflt;
        }
        if (!v.type().isInteger()) {
            throw wrong(key, "an integer");
        }
        return v.asLong();
    }

    /** A token id: -1 when absent; an error when outside the vocabulary. */
    int id(String key, int vocab) {
        long id = integer(key, -1L);
        if (id < -1 || id >= vocab) {
            throw new CheckpointException(source + ": metadata key '" + key + "' is " + id + ", not a token id of the "
                    + vocab + "-token vocabulary");
        }
        return (int) id;
    }

    boolean bool(String key, boolean dflt) {
        GgufValue v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (v.type() != GgufValue.Type.BOOL) {
            throw wrong(key, "a bool");
        }
        return v.asBool();
    }

    double number(String key, Double dflt) {
        GgufValue v = m.get(key);
        if (v == null) {
            if (dflt == null) {
                throw new CheckpointException(source + " lacks metadata key '" + key + "', which cohx needs");
            }
            return dflt;
        }
        if (v.type() == GgufValue.Type.FLOAT32) {
            // GGUF stores the decimal of the original config as f32; its shortest decimal is that value (1e-5, not 9.99999974738e-06).
            return Double.parseDouble(Float.toString((Float) v.value()));
        }
        if (v.type() == GgufValue.Type.FLOAT64 || v.type().isInteger()) {
            return v.asDouble();
        }
        throw wrong(key, "a number");
    }
}
