package io.cohx.models.config;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The map form of a model config record, derived from the record itself: each component is one
 * key, its name in snake_case ({@code numHiddenLayers} is {@code num_hidden_layers}) unless
 * {@link ConfigKey} names it, its kind from its Java type ({@code int}, {@code Integer} for a
 * nullable int, {@code double}, {@code boolean}, {@code String}); a component of another type (a
 * nested settings record) is a JSON object written and read by the {@link Codec} given for its
 * key. A new component is therefore a new key with no list to keep in step, and every config
 * family reads, writes and updates its map the same way.
 *
 * @param <R> the config record
 */
final class ConfigRecord<R extends Record> {

    /**
     * How a component of a type of its own maps to JSON: {@code write} gives a map (or null),
     * {@code read} takes that map (or null) and the source to name in errors.
     */
    record Codec(Function<Object, Object> write, BiFunction<Object, String, Object> read) {}

    private final String modelType;
    private final String modelName;
    private final Set<String> ignored;
    private final RecordComponent[] components;
    private final List<ConfigField> fields;
    private final Codec[] codecs;
    private final Constructor<R> constructor;

    ConfigRecord(Class<R> type, String modelType, String modelName, Set<String> ignored) {
        this(type, modelType, modelName, ignored, Map.of());
    }

    /**
     * @param modelName the family as people write it, in errors ({@code LLaMA})
     * @param ignored   keys of the reference's configs that do not affect cohx, accepted and dropped
     * @param codecs    by key, for the components whose type is none of the plain kinds
     */
    ConfigRecord(Class<R> type, String modelType, String modelName, Set<String> ignored, Map<String, Codec> codecs) {
        this.modelType = modelType;
        this.modelName = modelName;
        this.ignored = ignored;
        this.components = type.getRecordComponents();
        this.fields = Arrays.stream(components).map(c -> new ConfigField(key(c), kind(type, c, codecs))).toList();
        this.codecs = fields.stream().map(f -> codecs.get(f.key())).toArray(Codec[]::new);
        try {
            this.constructor = type.getDeclaredConstructor(Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(type + " has no canonical constructor", e);
        }
    }

    /** The keys, in component order. */
    List<ConfigField> fields() {
        return fields;
    }

    /** {@code model_type} first, then every key in component order. */
    Map<String, Object> toMap(R config) {
        var m = new LinkedHashMap<String, Object>();
        m.put("model_type", modelType);
        for (int i = 0; i < components.length; i++) {
            try {
                Object v = components[i].getAccessor().invoke(config);
                m.put(fields.get(i).key(), codecs[i] == null ? v : codecs[i].write().apply(v));
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException("reading " + fields.get(i).key() + " of " + config.getClass().getSimpleName(), e);
            }
        }
        return m;
    }

    /**
     * The record of a map holding every key with values already coerced (as {@link #toMap} or
     * {@link #updated} give); {@code source} names the map in errors.
     */
    R fromMap(Map<String, Object> values, String source) {
        Object[] args = new Object[fields.size()];
        for (int i = 0; i < args.length; i++) {
            Object v = values.get(fields.get(i).key());
            args[i] = codecs[i] == null ? v : codecs[i].read().apply(v, source);
        }
        try {
            return constructor.newInstance(args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r; // the record's own validation: a ConfigException naming the key
            }
            throw new IllegalStateException(e.getCause());
        } catch (InstantiationException | IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code config} with {@code updates} applied (keys as in {@link #toMap}); an unknown key is an
     * error naming the closest known key, and an update naming another model_type is refused.
     */
    R updated(R config, Map<String, ?> updates, String source) {
        Object type = updates.get("model_type");
        if (type != null && !modelType.equals(type)) {
            throw new ConfigException(source + " has model_type '" + type + "', not '" + modelType + "'");
        }
        Map<String, Object> values = toMap(config);
        ConfigField.apply(fields, values, updates, source, ignored, modelName);
        return fromMap(values, source);
    }

    private static String key(RecordComponent c) {
        ConfigKey k = c.getAnnotation(ConfigKey.class);
        return k != null ? k.value() : snakeCase(c.getName());
    }

    static String snakeCase(String camel) {
        var sb = new StringBuilder();
        for (char ch : camel.toCharArray()) {
            if (Character.isUpperCase(ch)) {
                sb.append('_').append(Character.toLowerCase(ch));
            } else {
                sb.append(ch);
            }
        }
        return sb.toString().toLowerCase(Locale.ROOT);
    }

    private static ConfigField.Kind kind(Class<?> record, RecordComponent c, Map<String, Codec> codecs) {
        if (codecs.containsKey(key(c))) {
            return ConfigField.Kind.OBJECT;
        }
        Class<?> t = c.getType();
        if (t == int.class) {
            return ConfigField.Kind.INT;
        } else if (t == Integer.class) {
            return ConfigField.Kind.NULLABLE_INT;
        } else if (t == double.class) {
            return ConfigField.Kind.DOUBLE;
        } else if (t == boolean.class) {
            return ConfigField.Kind.BOOL;
        } else if (t == String.class) {
            return ConfigField.Kind.STRING;
        }
        throw new IllegalStateException(record.getSimpleName() + "." + c.getName() + " is a " + t.getSimpleName()
                + ", which config maps hold only with a Codec for key " + key(c));
    }
}
