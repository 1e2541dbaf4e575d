package io.cohx.models.config;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One key of a model config with its value kind, used to check and coerce values coming from
 * JSON files and {@code key=value} overrides, so that every config record reads its map the
 * same way and every error names the key and where it came from.
 */
record ConfigField(String key, Kind kind) {

    enum Kind { INT, NULLABLE_INT, DOUBLE, BOOL, STRING, OBJECT }

    static ConfigField i(String key) {
        return new ConfigField(key, Kind.INT);
    }

    static ConfigField ni(String key) {
        return new ConfigField(key, Kind.NULLABLE_INT);
    }

    static ConfigField d(String key) {
        return new ConfigField(key, Kind.DOUBLE);
    }

    static ConfigField b(String key) {
        return new ConfigField(key, Kind.BOOL);
    }

    static ConfigField s(String key) {
        return new ConfigField(key, Kind.STRING);
    }

    /** A JSON object or null (e.g. {@code rope_scaling}); the record that owns it checks its content. */
    static ConfigField o(String key) {
        return new ConfigField(key, Kind.OBJECT);
    }

    /** {@code v} as this field's kind; strings (from key=value lists) are parsed. */
    Object coerce(Object v, String source) {
        String where = "'" + key + "' in " + source;
        if (kind == Kind.OBJECT) {
            return object(v, where);
        }
        if (v instanceof String str && kind != Kind.STRING) {
            String t = str.trim();
            try {
                return switch (kind) {
                    case INT -> Integer.parseInt(t);
                    case NULLABLE_INT -> t.equalsIgnoreCase("null") || t.equalsIgnoreCase("none") ? null : Integer.parseInt(t);
                    case DOUBLE -> Double.parseDouble(t);
                    case BOOL -> switch (t.toLowerCase(Locale.ROOT)) {
                        case "true", "1", "yes" -> true;
                        case "false", "0", "no" -> false;
                        default -> throw new NumberFormatException();
                    };
                    case STRING, OBJECT -> t;
                };
            } catch (NumberFormatException e) {
                throw new ConfigException(where + ": '" + str + "' is not " + describe());
            }
        }
        switch (kind) {
            case INT, NULLABLE_INT -> {
                if (v == null && kind == Kind.NULLABLE_INT) {
                    return null;
                }
                if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
                        && Math.abs(n.doubleValue()) <= Integer.MAX_VALUE) {
                    return n.intValue();
                }
            }
            case DOUBLE -> {
                if (v instanceof Number n) {
                    return n.doubleValue();
                }
            }
            case BOOL -> {
                if (v instanceof Boolean bo) {
                    return bo;
                }
            }
            case STRING -> {
                if (v instanceof String str) {
                    return str;
                }
            }
            case OBJECT -> throw new IllegalStateException("handled above");
        }
        throw new ConfigException(where + ": " + v + " is not " + describe());
    }

    private String describe() {
        return switch (kind) {
            case INT -> "an integer";
            case NULLABLE_INT -> "an integer or null";
            case DOUBLE -> "a number";
            case BOOL -> "true or false";
            case STRING -> "a string";
            case OBJECT -> "a JSON object or null";
        };
    }

    /** A map, null, or a string holding either ({@code key=value} overrides): JSON text, "null" or "none". */
    private Object object(Object v, String where) {
        if (v == null || v instanceof java.util.Map<?, ?>) {
            return v;
        }
        if (v instanceof String str) {
            String t = str.trim();
            if (t.equalsIgnoreCase("null") || t.equalsIgnoreCase("none")) {
                return null;
            }
            try {
                return new com.fasterxml.jackson.databind.ObjectMapper().readValue(t, java.util.LinkedHashMap.class);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new ConfigException(where + ": '" + str + "' is not a JSON object (with --update-model-config, give"
                        + " the whole update as JSON: {\"" + key + "\": {...}})");
            }
        }
        throw new ConfigException(where + ": " + v + " is not " + describe());
    }

    /**
     * Applies {@code updates} to {@code values} (which holds every field); unknown keys are an
     * error naming the closest known key, except those in {@code ignored}, which are dropped.
     */
    static void apply(List<ConfigField> fields, Map<String, Object> values, Map<String, ?> updates, String source,
                      Collection<String> ignored, String modelName) {
        for (var e : updates.entrySet()) {
            ConfigField f = fields.stream().filter(x -> x.key().equals(e.getKey())).findFirst().orElse(null);
            if (f == null) {
                if (ignored.contains(e.getKey())) {
                    continue;
                }
                var names = fields.stream().map(ConfigField::key).toList();
                throw new ConfigException("unknown key '" + e.getKey() + "' in " + source + closest(e.getKey(), names)
                        + "; " + modelName + " config keys are: " + String.join(", ", names));
            }
            values.put(f.key(), f.coerce(e.getValue(), source));
        }
    }

    /** {@code "; did you mean 'x'?"} when a known key is within a small edit distance, else "". */
    static String closest(String key, Collection<String> known) {
        return Suggestions.closest(key, known);
    }
}
