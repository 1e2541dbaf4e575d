package io.cohx.models.gguf;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One GGUF metadata value with its wire type, so a file can be read and written back without
 * losing types. Java representation by {@link Type}: 8-32-bit integers (u32 excepted) as
 * {@code Integer}, u32/i64/u64 as {@code Long} (u64 as its two's-complement bits), f32 as
 * {@code Float}, f64 as {@code Double}, bool as {@code Boolean}, string as {@code String}; arrays
 * as {@code int[]} (8-32-bit integers but u32), {@code long[]} (u32, i64, u64), {@code float[]},
 * {@code double[]}, {@code boolean[]}, {@code List<String>} or {@code List<GgufValue>} (arrays of
 * arrays), with {@code elementType} saying which wire type the elements have.
 */
public record GgufValue(Type type, Type elementType, Object value) {

    /** GGUF's {@code gguf_type} ids. */
    public enum Type {
        UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4), BOOL(7, 1),
        STRING(8, -1), ARRAY(9, -1), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

        final int id;
        final int size;

        Type(int id, int size) {
            this.id = id;
            this.size = size;
        }

        public int id() {
            return id;
        }

        static Type byId(long id) {
            for (Type t : values()) {
                if (t.id == id) {
                    return t;
                }
            }
            return null;
        }

        boolean isInteger() {
            return switch (this) {
                case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
                default -> false;
            };
        }

        /** Whether values of this integer type are held as Long / long[] (else Integer / int[]). */
        boolean wide() {
            return this == UINT32 || this == UINT64 || this == INT64;
        }
    }

    public GgufValue {
        Objects.requireNonNull(type);
        Objects.requireNonNull(value);
        if ((type == Type.ARRAY) != (elementType != null)) {
            throw new IllegalArgumentException("an element type goes with arrays only: " + type + "/" + elementType);
        }
    }

    public static GgufValue u32(long v) {
        if (v < 0 || v > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(v + " does not fit a u32");
        }
        return new GgufValue(Type.UINT32, null, v);
    }

    public static GgufValue i32(int v) {
        return new GgufValue(Type.INT32, null, v);
    }

    public static GgufValue u64(long v) {
        return new GgufValue(Type.UINT64, null, v);
    }

    public static GgufValue f32(float v) {
        return new GgufValue(Type.FLOAT32, null, v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(Type.BOOL, null, v);
    }

    public static GgufValue string(String v) {
        return new GgufValue(Type.STRING, null, v);
    }

    public static GgufValue strings(List<String> v) {
        return new GgufValue(Type.ARRAY, Type.STRING, List.copyOf(v));
    }

    public static GgufValue i32s(int[] v) {
        return new GgufValue(Type.ARRAY, Type.INT32, v.clone());
    }

    public static GgufValue f32s(float[] v) {
        return new GgufValue(Type.ARRAY, Type.FLOAT32, v.clone());
    }

    /** An integer scalar of any width as a long (u64 values above 2^63-1 come back negative). */
    public long asLong() {
        if (value instanceof Integer i) {
            return i;
        }
        if (value instanceof Long l) {
            return l;
        }
        throw new IllegalStateException("a " + describe() + ", not an integer");
    }

    /** A number of any type (integers and floats) as a double. */
    public double asDouble() {
        if (value instanceof Float f) {
            return f;
        }
        if (value instanceof Double d) {
            return d;
        }
        if (type == Type.UINT64 && (Long) value < 0) {
            return Double.parseDouble(Long.toUnsignedString((Long) value));
        }
        return asLong();
    }

    public boolean asBool() {
        if (value instanceof Boolean b) {
            return b;
        }
        throw new IllegalStateException("a " + describe() + ", not a bool");
    }

    public String asString() {
        if (value instanceof String s) {
            return s;
        }
        throw new IllegalStateException("a " + describe() + ", not a string");
    }

    /** An array of strings. */
    @SuppressWarnings("unchecked")
    public List<String> asStrings() {
        if (elementType == Type.STRING) {
            return (List<String>) value;
        }
        throw new IllegalStateException("a " + describe() + ", not an array of strings");
    }

    /** An array of integers of at most 32 bits (u32 values must fit an int). */
    public int[] asInts() {
        if (value instanceof int[] a) {
            return a.clone();
        }
        if (value instanceof long[] a && elementType == Type.UINT32) {
            int[] out = new int[a.length];
            for (int i = 0; i < a.length; i++) {
                out[i] = Math.toIntExact(a[i]);
            }
            return out;
        }
        throw new IllegalStateException("a " + describe() + ", not an array of 32-bit integers");
    }

    /** An array of numbers as floats (f32 exactly; f64 rounded). */
    public float[] asFloats() {
        if (value instanceof float[] a) {
            return a.clone();
        }
        if (value instanceof double[] a) {
            float[] out = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                out[i] = (float) a[i];
            }
            return out;
        }
        throw new IllegalStateException("a " + describe() + ", not an array of floats");
    }

    /** Element count of an array value. */
    public int length() {
        return switch (value) {
            case int[] a -> a.length;
            case long[] a -> a.length;
            case float[] a -> a.length;
            case double[] a -> a.length;
            case boolean[] a -> a.length;
            case List<?> l -> l.size();
            default -> throw new IllegalStateException("a " + describe() + ", not an array");
        };
    }

    /** {@code UINT32}, {@code ARRAY[STRING]}: how errors name a value's type. */
    public String describe() {
        return type == Type.ARRAY ? "ARRAY[" + elementType + "] of " + length() : type.name();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufValue v && type == v.type && elementType == v.elementType
                && Arrays.deepEquals(new Object[] {value}, new Object[] {v.value});
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + Arrays.deepHashCode(new Object[] {value});
    }

    @Override
    public String toString() {
        String v = switch (value) {
            case int[] a -> Arrays.toString(a);
            case long[] a -> Arrays.toString(a);
            case float[] a -> Arrays.toString(a);
            case double[] a -> Arrays.toString(a);
            case boolean[] a -> Arrays.toString(a);
            default -> String.valueOf(value);
        };
        return describe() + " " + (v.length() > 200 ? v.substring(0, 200) + "..." : v);
    }
}
