package io.cohx.models.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where model configs come from and go to: presets ({@code llama:7b}, {@code gptj:6b}), our JSON
 * files (the reference trainer's keys; partial files override the defaults), Hugging Face
 * {@code config.json} files and folders, and {@code --update-model-config} overrides given as a
 * JSON object or a {@code key=value,key=value} list.
 */
public final class ModelConfigs {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ModelConfigs() {}

    /** The defaults of {@code modelType} ({@code llama} or {@code gptj}). */
    public static ModelConfig defaults(String modelType) {
        return switch (normalizeType(modelType)) {
            case "llama" -> LlamaConfig.defaults();
            default -> GptjConfig.defaults();
        };
    }

    /** A preset of {@code modelType}. */
    public static ModelConfig preset(String modelType, String name) {
        return switch (normalizeType(modelType)) {
            case "llama" -> LlamaConfig.preset(name);
            default -> GptjConfig.preset(name);
        };
    }

    private static String normalizeType(String t) {
        String k = t == null ? "" : t.toLowerCase(Locale.ROOT).replace("-", "");
        return switch (k) {
            case "llama" -> "llama";
            case "gptj" -> "gptj";
            default -> throw new ConfigException("unknown model type '" + t + "'; use llama or gptj");
        };
    }

    /**
     * Resolves a config spec: {@code TYPE:PRESET} (e.g. {@code llama:7b}), a bare preset name when
     * {@code modelType} is given, a JSON file (ours or a Hugging Face config.json), or a folder
     * with a {@code config.json}. {@code modelType} may be null when the spec says it.
     */
    public static ModelConfig resolve(String spec, String modelType) {
        Path p = Path.of(spec);
        if (Files.isDirectory(p)) {
            Path cfg = p.resolve("config.json");
            if (!Files.isRegularFile(cfg)) {
                throw new ConfigException("folder " + p + " has no config.json");
            }
            return read(cfg, modelType);
        }
        if (Files.isRegularFile(p)) {
            return read(p, modelType);
        }
        int colon = spec.indexOf(':');
        if (colon > 0) {
            return preset(spec.substring(0, colon), spec.substring(colon + 1));
        }
        if (modelType != null) {
            return preset(modelType, spec);
        }
        throw new ConfigException("model config '" + spec + "' is neither a file nor TYPE:PRESET (llama:"
                + String.join("|", LlamaConfig.PRESETS) + ", gptj:" + String.join("|", GptjConfig.PRESETS) + ")");
    }

    /**
     * Reads a JSON config file: a Hugging Face config.json is recognised by its keys, a
     * {@code cohx train} run's config.json by its {@code resolved_model_config}, otherwise it is
     * ours or the reference trainer's. The model type is the file's {@code model_type}, else the
     * one its keys imply ({@link #inferType}), else {@code modelType} (may be null).
     */
    @SuppressWarnings("unchecked")
    public static ModelConfig read(Path file, String modelType) {
        Map<String, Object> m = readMap(file);
        String source = file.toString();
        if (m.get(RUN_MODEL_CONFIG) instanceof Map<?, ?> resolved) {
            var inner = new LinkedHashMap<>((Map<String, Object>) resolved);
            inner.putIfAbsent("model_type", m.get("model_type") != null ? m.get("model_type") : m.get("model"));
            m = inner;
            source = file + " (" + RUN_MODEL_CONFIG + ")";
        }
        Object type = m.get("model_type");
        boolean hf = isHuggingFace(m);
        if (hf && type != null && LlamaConfig.HF_MODEL_TYPES.contains(type.toString())) {
            type = "llama"; // e.g. Mistral: the LLaMA architecture under another name
        }
        String t = type != null ? type.toString() : inferType(m);
        if (t == null) {
            t = modelType;
        }
        if (t == null) {
            throw new ConfigException(file + " does not say its model_type and its keys fit neither llama (hidden_size,"
                    + " num_hidden_layers, ...) nor gptj (n_embd, n_layer, ...); add \"model_type\": \"llama\" or \"gptj\"");
        }
        t = normalizeType(t);
        if (modelType != null && !normalizeType(modelType).equals(t)) {
            throw new ConfigException(file + " is a " + t + " config, but a " + normalizeType(modelType)
                    + " config was asked for");
        }
        if (hf) {
            return t.equals("llama") ? LlamaConfig.fromHf(m, source) : GptjConfig.fromHf(m, source);
        }
        return defaults(t).withUpdates(m, source);
    }

    /** The key under which a {@code cohx train} run's config.json keeps the model config it trained. */
    public static final String RUN_MODEL_CONFIG = "resolved_model_config";

    /**
     * The model type a config without {@code model_type} (such as the reference trainer's
     * model_config.json) stands for, from its keys: GPT-J's are {@code n_embd}, {@code n_layer},
     * {@code n_head}, {@code rotary_dim}; LLaMA's {@code hidden_size}, {@code num_hidden_layers},
     * {@code intermediate_size}, {@code rms_norm_eps}. Null when it has both kinds or neither.
     */
    static String inferType(Map<String, ?> m) {
        boolean gptj = Stream.of("n_embd", "n_layer", "n_head", "rotary_dim").anyMatch(m::containsKey);
        boolean llama = Stream.of("hidden_size", "num_hidden_layers", "intermediate_size", "rms_norm_eps").anyMatch(m::containsKey);
        return gptj == llama ? null : gptj ? "gptj" : "llama";
    }

    static boolean isHuggingFace(Map<String, ?> m) {
        return m.containsKey("architectures") || m.containsKey("transformers_version") || m.containsKey("torch_dtype")
                || (m.containsKey("max_position_embeddings") && !m.containsKey("max_sequence_length")
                        && !m.containsKey("n_positions"));
    }

    /** A JSON object file as an ordered map; errors name the file. */
    public static Map<String, Object> readMap(Path file) {
        try {
            Map<String, Object> m = JSON.readValue(file.toFile(), new TypeReference<LinkedHashMap<String, Object>>() {});
            if (m == null) {
                throw new ConfigException(file + " is empty; expected a JSON object");
            }
            return m;
        } catch (JsonProcessingException e) {
            throw new ConfigException(file + " is not a JSON object: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses {@code --update-model-config}-style overrides: a JSON object ({@code {"hidden_size": 64}})
     * or {@code key=value} items separated by commas. Values of a key=value list stay strings and
     * are converted to each key's type when applied. {@code flag} names the option in errors.
     */
    public static Map<String, Object> parseOverrides(String text, String flag) {
        String t = text.trim();
        var out = new LinkedHashMap<String, Object>();
        if (t.isEmpty()) {
            return out;
        }
        if (t.startsWith("{")) {
            try {
                return JSON.readValue(t, new TypeReference<LinkedHashMap<String, Object>>() {});
            } catch (JsonProcessingException e) {
                throw new ConfigException(flag + ": not a JSON object: " + e.getOriginalMessage(), e);
            }
        }
        for (String item : t.split(",")) {
            String it = item.trim();
            if (it.isEmpty()) {
                continue;
            }
            int eq = it.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException(flag + ": '" + it + "' is not key=value (e.g. hidden_size=64,num_hidden_layers=2)");
            }
            out.put(it.substring(0, eq).trim(), it.substring(eq + 1).trim());
        }
        return out;
    }

    /** Our JSON form of {@code config}. */
    public static String toJson(ModelConfig config) {
        return toJson(config.toMap());
    }

    /** Pretty JSON of a map (config.json, generation_config.json, manifests). */
    public static String toJson(Map<String, ?> map) {
        try {
            return JSON.writeValueAsString(map) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code generation_config.json} for a Hugging Face export: the model's bos/eos ids. */
    public static Map<String, Object> hfGenerationConfig(ModelConfig config) {
        var m = new LinkedHashMap<String, Object>();
        m.put("bos_token_id", config.bosTokenId());
        m.put("eos_token_id", config.eosTokenId());
        return m;
    }

    /** A config from our JSON map form (as {@link ModelConfig#toMap()} writes, {@code model_type} required). */
    public static ModelConfig fromMap(Map<String, ?> m, String source) {
        Object type = m.get("model_type");
        if (type == null) {
            throw new ConfigException(source + ": config has no model_type");
        }
        return defaults(type.toString()).withUpdates(m, source);
    }
}
