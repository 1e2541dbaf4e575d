package io.cohx.pjrt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** Converts between Java maps and arrays of {@code PJRT_NamedValue} (client options, attributes). */
final class NamedValues {
    private NamedValues() {}

    private static final int STRING = 0, INT64 = 1, INT64_LIST = 2, FLOAT = 3, BOOL = 4;

    /**
     * Writes {@code options} as a NamedValue array in {@code arena}. Accepted values: String, Long or
     * Integer (kInt64), long[] or List of numbers (kInt64List), Float or Double (kFloat), Boolean.
     */
    static MemorySegment write(Arena arena, Map<String, ?> options) {
        Struct s = Structs.NAMED_VALUE;
        MemorySegment array = arena.allocate(s.size() * Math.max(1, options.size()), 8);
        long i = 0;
        for (var e : options.entrySet()) {
            MemorySegment v = array.asSlice(i++ * s.size(), s.size());
            v.set(JAVA_LONG, 0, s.size());
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            v.set(ADDRESS, s.off("name"), arena.allocateFrom(JAVA_BYTE, name));
            v.set(JAVA_LONG, s.off("name_size"), name.length);
            Object value = e.getValue();
            switch (value) {
                case String str -> {
                    byte[] b = str.getBytes(StandardCharsets.UTF_8);
                    v.set(JAVA_INT, s.off("type"), STRING);
                    v.set(ADDRESS, s.off("string_value"), arena.allocateFrom(JAVA_BYTE, b));
                    v.set(JAVA_LONG, s.off("value_size"), b.length);
                }
                case Long l -> setLong(s, v, l);
                case Integer n -> setLong(s, v, n);
                case Boolean b -> {
                    v.set(JAVA_INT, s.off("type"), BOOL);
                    v.set(JAVA_BYTE, s.off("bool_value"), (byte) (b ? 1 : 0));
                    v.set(JAVA_LONG, s.off("value_size"), 1);
                }
                case Float f -> setFloat(s, v, f);
                case Double d -> setFloat(s, v, d.floatValue());
                case long[] list -> setList(arena, s, v, list);
                case List<?> list -> setList(arena, s, v, list.stream().mapToLong(x -> ((Number) x).longValue()).toArray());
                default -> throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "option '" + e.getKey() + "': unsupported value type "
                        + value.getClass().getSimpleName() + " (use String, Long, Boolean, Float or long[])");
            }
        }
        return array;
    }

    private static void setLong(Struct s, MemorySegment v, long value) {
        v.set(JAVA_INT, s.off("type"), INT64);
        v.set(JAVA_LONG, s.off("int64_value"), value);
        v.set(JAVA_LONG, s.off("value_size"), 1);
    }

    private static void setFloat(Struct s, MemorySegment v, float value) {
        v.set(JAVA_INT, s.off("type"), FLOAT);
        v.set(JAVA_FLOAT, s.off("float_value"), value);
        v.set(JAVA_LONG, s.off("value_size"), 1);
    }

    private static void setList(Arena arena, Struct s, MemorySegment v, long[] list) {
        v.set(JAVA_INT, s.off("type"), INT64_LIST);
        v.set(ADDRESS, s.off("int64_array_value"), arena.allocateFrom(JAVA_LONG, list));
        v.set(JAVA_LONG, s.off("value_size"), list.length);
    }

    /** Reads {@code count} NamedValues at {@code array}. */
    static Map<String, Object> read(MemorySegment array, long count) {
        Struct s = Structs.NAMED_VALUE;
        var out = new LinkedHashMap<String, Object>();
        MemorySegment all = array.reinterpret(s.size() * count);
        for (long i = 0; i < count; i++) {
            MemorySegment v = all.asSlice(i * s.size(), s.size());
            String name = Api.string(v.get(ADDRESS, s.off("name")), v.get(JAVA_LONG, s.off("name_size")));
            long size = v.get(JAVA_LONG, s.off("value_size"));
            Object value = switch (v.get(JAVA_INT, s.off("type"))) {
                case STRING -> Api.string(v.get(ADDRESS, s.off("string_value")), size);
                case INT64 -> v.get(JAVA_LONG, s.off("int64_value"));
                case INT64_LIST -> size == 0 ? new long[0]
                        : v.get(ADDRESS, s.off("int64_array_value")).reinterpret(size * 8).toArray(JAVA_LONG);
                case FLOAT -> v.get(JAVA_FLOAT, s.off("float_value"));
                case BOOL -> v.get(JAVA_BYTE, s.off("bool_value")) != 0;
                default -> "(unknown type)";
            };
            out.put(name, value);
        }
        return out;
    }
}
