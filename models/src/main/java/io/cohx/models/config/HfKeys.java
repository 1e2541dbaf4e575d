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
        Object t = m.get("model_type");
        if (t != null && !type.equals(t)) {
            throw new ConfigException(source + ": model_type is '" + t + "', expected '" + type + "'");
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

    void expectNullOrAbsent(String key) {
        if (m.get(key) != null) {
            throw new ConfigException(source + ": " + key + " " + m.get(key) + " is not supported by cohx (must be null)");
        }
    }

    void expectFalseOrAbsent(String key) {
        Object v = m.get(key);
        if (v != null && !Boolean.FALSE.equals(v)) {
            throw new ConfigException(source + ": " + key + " " + v + " is not supported by cohx (must be false)");
        }
    }
}
