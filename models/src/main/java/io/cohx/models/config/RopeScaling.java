package io.cohx.models.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How a LLaMA-family model stretches its rotary frequencies beyond the context it was trained on,
 * as Hugging Face's {@code rope_scaling} describes it: {@link Linear} (every frequency divided by
 * {@code factor}: position interpolation) or {@link Llama3} (Llama 3.1's scheme: long wavelengths
 * divided by {@code factor}, short ones kept, the band between blended smoothly). No scaling is
 * {@code null} wherever a config holds one. The arithmetic lives in {@link io.cohx.models.Rope}.
 */
public sealed interface RopeScaling permits RopeScaling.Linear, RopeScaling.Llama3 {

    /** The {@code rope_type} names cohx implements. */
    List<String> TYPES = List.of("linear", "llama3");

    /** Hugging Face's {@code rope_type} of this scaling. */
    String type();

    /** The map Hugging Face's config.json holds (our JSON uses the same). */
    Map<String, Object> toMap();

    /** Position interpolation: inverse frequencies divided by {@code factor}. */
    record Linear(double factor) implements RopeScaling {
        public Linear {
            if (!(factor >= 1)) {
                throw new ConfigException("rope_scaling: linear factor must be >= 1, got " + factor);
            }
        }

        @Override
        public String type() {
            return "linear";
        }

        @Override
        public Map<String, Object> toMap() {
            var m = new LinkedHashMap<String, Object>();
            m.put("rope_type", "linear");
            m.put("factor", factor);
            return m;
        }
    }

    /**
     * Llama 3.1's scaling: wavelengths longer than {@code originalMaxPositions / lowFreqFactor}
     * are stretched by {@code factor}, those shorter than {@code originalMaxPositions /
     * highFreqFactor} kept, and the band between interpolated.
     */
    record Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions)
            implements RopeScaling {
        public Llama3 {
            if (!(factor >= 1) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || originalMaxPositions <= 0) {
                throw new ConfigException("rope_scaling: llama3 needs factor >= 1, 0 < low_freq_factor < high_freq_factor"
                        + " and original_max_position_embeddings > 0, got factor " + factor + ", low_freq_factor "
                        + lowFreqFactor + ", high_freq_factor " + highFreqFactor + ", original_max_position_embeddings "
                        + originalMaxPositions);
            }
        }

        @Override
        public String type() {
            return "llama3";
        }

        @Override
        public Map<String, Object> toMap() {
            var m = new LinkedHashMap<String, Object>();
            m.put("rope_type", "llama3");
            m.put("factor", factor);
            m.put("low_freq_factor", lowFreqFactor);
            m.put("high_freq_factor", highFreqFactor);
            m.put("original_max_position_embeddings", originalMaxPositions);
            return m;
        }
    }

    /**
     * Reads a {@code rope_scaling} map (Hugging Face's keys; the type under {@code rope_type}, or
     * {@code type} as older configs write it). {@code null} and type {@code default} mean no
     * scaling; other types (dynamic, yarn, longrope) are refused by name. {@code source} names the
     * file or flag in errors.
     */
    static RopeScaling fromMap(Object value, String source) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof Map<?, ?> m)) {
            throw new ConfigException(source + ": rope_scaling must be an object like {\"rope_type\": \"linear\", \"factor\": 2.0}"
                    + " or null, got " + value);
        }
        Object type = m.get("rope_type") != null ? m.get("rope_type") : m.get("type");
        if (type == null) {
            throw new ConfigException(source + ": rope_scaling " + m + " has no rope_type; cohx implements " + TYPES);
        }
        String where = source + ": rope_scaling";
        return switch (type.toString().toLowerCase(Locale.ROOT)) {
            case "default" -> null;
            case "linear" -> new Linear(number(m, "factor", where));
            case "llama3" -> new Llama3(number(m, "factor", where), number(m, "low_freq_factor", where),
                    number(m, "high_freq_factor", where), (int) number(m, "original_max_position_embeddings", where));
            default -> throw new ConfigException(where + " type '" + type + "' is not supported by cohx; it implements "
                    + TYPES + " (or null for none)");
        };
    }

    private static double number(Map<?, ?> m, String key, String where) {
        Object v = m.get(key);
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof String s) {
            try {
                return Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new ConfigException(where + ": '" + key + "' must be a number, got " + (v == null ? "nothing" : v));
    }
}
