package io.cohx.pjrt;

import io.cohx.pjrt.capi.PJRT_NamedValue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.cohx.pjrt.capi.PjrtCApi.PJRT_NamedValue_STRUCT_SIZE;
import static io.cohx.pjrt.capi.PjrtCApi.PJRT_NamedValue_kBool;
import static io.cohx.pjrt.capi.PjrtCApi.PJRT_NamedValue_kFloat;
import static io.cohx.pjrt.capi.PjrtCApi.PJRT_NamedValue_kInt64;
import static io.cohx.pjrt.capi.PjrtCApi.PJRT_NamedValue_kInt64List;
import static io.cohx.pjrt.capi.PjrtCApi.PJRT_NamedValue_kString;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Converts between Java maps and arrays of {@code PJRT_NamedValue} (client options, attributes).
 * Arrays keep the header's element size: the plugin indexes them with its own {@code sizeof}.
 */
final class NamedValues {
    private NamedValues() {}

    /**
     * Writes {@code options} as a NamedValue array in {@code arena}. Accepted values: String, Long or
     * Integer (kInt64), long[] or List of numbers (kInt64List), Float or Double (kFloat), Boolean.
     */
    static MemorySegment write(Arena arena, Map<String, ?> options) {
        MemorySegment array = PJRT_NamedValue.allocateArray(Math.max(1, options.size()), arena);
        long i = 0;
        for (var e : options.entrySet()) {
            MemorySegment v = PJRT_NamedValue.asSlice(array, i++);
            PJRT_NamedValue.struct_size(v, PJRT_NamedValue_STRUCT_SIZE());
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            PJRT_NamedValue.name(v, arena.allocateFrom(JAVA_BYTE, name));
            PJRT_NamedValue.name_size(v, name.length);
            Object value = e.getValue();
            switch (value) {
                case String str -> {
                    byte[] b = str.getBytes(StandardCharsets.UTF_8);
                    PJRT_NamedValue.type(v, PJRT_NamedValue_kString());
                    PJRT_NamedValue.string_value(v, arena.allocateFrom(JAVA_BYTE, b));
                    PJRT_NamedValue.value_size(v, b.length);
                }
                case Long l -> setLong(v, l);
                case Integer n -> setLong(v, n);
                case Boolean b -> {
                    PJRT_NamedValue.type(v, PJRT_NamedValue_kBool());
                    PJRT_NamedValue.bool_value(v, b);
                    PJRT_NamedValue.value_size(v, 1);
                }
                case Float f -> setFloat(v, f);
                case Double d -> setFloat(v, d.floatValue());
                case long[] list -> setList(arena, v, list);
                case List<?> list -> setList(arena, v, list.stream().mapToLong(x -> ((Number) x).longValue()).toArray());
                default -> throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "option '" + e.getKey() + "': unsupported value type "
                        + value.getClass().getSimpleName() + " (use String, Long, Boolean, Float or long[])");
            }
        }
        return array;
    }

    private static void setLong(MemorySegment v, long value) {
        PJRT_NamedValue.type(v, PJRT_NamedValue_kInt64());
        PJRT_NamedValue.int64_value(v, value);
        PJRT_NamedValue.value_size(v, 1);
    }

    private static void setFloat(MemorySegment v, float value) {
        PJRT_NamedValue.type(v, PJRT_NamedValue_kFloat());
        PJRT_NamedValue.float_value(v, value);
        PJRT_NamedValue.value_size(v, 1);
    }

    private static void setList(Arena arena, MemorySegment v, long[] list) {
        PJRT_NamedValue.type(v, PJRT_NamedValue_kInt64List());
        PJRT_NamedValue.int64_array_value(v, arena.allocateFrom(JAVA_LONG, list));
        PJRT_NamedValue.value_size(v, list.length);
    }

    /** Reads {@code count} NamedValues at {@code array}. */
    static Map<String, Object> read(MemorySegment array, long count) {
        var out = new LinkedHashMap<String, Object>();
        MemorySegment all = array.reinterpret(PJRT_NamedValue.sizeof() * count);
        for (long i = 0; i < count; i++) {
            MemorySegment v = PJRT_NamedValue.asSlice(all, i);
            String name = Api.string(PJRT_NamedValue.name(v), PJRT_NamedValue.name_size(v));
            long size = PJRT_NamedValue.value_size(v);
            int type = PJRT_NamedValue.type(v);
            Object value;
            if (type == PJRT_NamedValue_kString()) {
                value = Api.string(PJRT_NamedValue.string_value(v), size);
            } else if (type == PJRT_NamedValue_kInt64()) {
                value = PJRT_NamedValue.int64_value(v);
            } else if (type == PJRT_NamedValue_kInt64List()) {
                value = size == 0 ? new long[0] : PJRT_NamedValue.int64_array_value(v).reinterpret(size * JAVA_LONG.byteSize()).toArray(JAVA_LONG);
            } else if (type == PJRT_NamedValue_kFloat()) {
                value = PJRT_NamedValue.float_value(v);
            } else if (type == PJRT_NamedValue_kBool()) {
                value = PJRT_NamedValue.bool_value(v);
            } else {
                value = "(unknown type)";
            }
            out.put(name, value);
        }
        return out;
    }
}
