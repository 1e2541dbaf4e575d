package io.cohx.models.config;

import java.util.Map;

/** Typed reads of a Hugging Face config.json map, with errors naming the file and key. */
final class HfKeys {
    private final Map<String, ?> m;
    private final String source;

    HfKeys(Map<String, ?> m, String source) {
        this.m = m;
        this.source = source;
    }

    void expectModelType(String type) {
        expectModelType(java.util.List.of(type));
    }

    void expectModelType(java.util.List<String> types) {
        Object t = m.get("model_type");
        if (t != null && !types.contains(t)) {
            throw new ConfigException(source + ": model_type is '" + t + "', expected "
                    + (types.size() == 1 ? "'" + types.getFirst() + "'" : "one of " + types));
        }
    }

    int integer(String key, Integer dflt) {
        Object v = m.get(key);
        if (v == null) {
            if (dflt == null) {
                throw new ConfigException(source + ": missing key '" + key + "'");
            }
            return dflt;
        }
        return (Integer) ConfigField.i(key).coerce(v, source);
    }

    /** An integer, or the first of a list of them (Llama 3.1's several {@code eos_token_id}s). */
    int firstInteger(String key, Integer dflt) {
        if (m.get(key) instanceof java.util.List<?> l) {
            if (l.isEmpty()) {
                throw new ConfigException(source + ": '" + key + "' is an empty list");
            }
            return (Integer) ConfigField.i(key).coerce(l.getFirst(), source);
        }
        return integer(key, dflt);
    }

    double number(String key, double dflt) {
        Object v = m.get(key);
        return v == null ? dflt : (Double) ConfigField.d(key).coerce(v, source);
    }

    boolean bool(String key, boolean dflt) {
        Object v = m.get(key);
        return v == null ? dflt : (Boolean) ConfigField.b(key).coerce(v, source);
    }

    String string(String key, String dflt) {
        Object v = m.get(key);
        return v == null ? dflt : (String) ConfigField.s(key).coerce(v, source);
    }

    void expect(String key, String value) {
        Object v = m.get(key);
        if (v != null && !value.equals(v)) {
            throw new ConfigException(source + ": " + key + " '" + v + "' is not supported by cohx (only '" + value + "')");
        }
    }

    void expectFalseOrAbsent(String key) {
        Object v = m.get(key);
        if (v != null && !Boolean.FALSE.equals(v)) {
            throw new ConfigException(source + ": " + key + " " + v + " is not supported by cohx (must be false)");
        }
    }
}
