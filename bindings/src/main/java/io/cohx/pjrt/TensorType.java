package io.cohx.pjrt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An element type and dimensions, as a StableHLO {@code tensor<2x3xf32>} type spells them.
 * Used to check execute arguments against the program's {@code main} signature.
 */
public record TensorType(ElementType type, long[] dims) {

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorType t && t.type == type && Arrays.equals(t.dims, dims);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        var sb = new StringBuilder("tensor<");
        for (long d : dims) {
            sb.append(d).append('x');
        }
        return sb.append(mlirName(type)).append('>').toString();
    }

    /** The MLIR element type name of {@code t} ({@code f32}, {@code bf16}, {@code i1}, {@code ui32} ...). */
    public static String mlirName(ElementType t) {
        return switch (t) {
            case PRED -> "i1";
            case S8 -> "i8";
            case S16 -> "i16";
            case S32 -> "i32";
            case S64 -> "i64";
            case U8 -> "ui8";
            case U16 -> "ui16";
            case U32 -> "ui32";
            case U64 -> "ui64";
            case F16 -> "f16";
            case F32 -> "f32";
            case F64 -> "f64";
            case BF16 -> "bf16";
            case C64 -> "complex<f32>";
            case C128 -> "complex<f64>";
            case INVALID -> "invalid";
        };
    }

    /** Parses {@code 2x3xf32} (the inside of {@code tensor<...>}); null if not a static ranked tensor. */
    static TensorType parse(String inner) {
        String[] parts = inner.trim().split("x");
        String elem = parts[parts.length - 1];
        for (ElementType t : ElementType.values()) {
            if (mlirName(t).equals(elem)) {
                long[] dims = new long[parts.length - 1];
                for (int i = 0; i < dims.length; i++) {
                    try {
                        dims[i] = Long.parseLong(parts[i]);
                    } catch (NumberFormatException e) {
                        return null;
                    }
                }
                return new TensorType(t, dims);
            }
        }
        return null;
    }

    /**
     * The argument types of {@code func.func ... @main(...)} in a StableHLO module's text, or null
     * when the text has no such signature that cohx can read (then arguments are not pre-checked).
     */
    static List<TensorType> mainSignature(String mlir) {
        int at = mlir.indexOf("@main(");
        if (at < 0) {
            return null;
        }
        int i = at + "@main(".length();
        int depth = 1;
        boolean quoted = false;
        int start = i;
        for (; i < mlir.length() && depth > 0; i++) {
            char c = mlir.charAt(i);
            if (c == '"' && mlir.charAt(i - 1) != '\\') {
                quoted = !quoted;
            } else if (!quoted && c == '(') {
                depth++;
            } else if (!quoted && c == ')') {
                depth--;
            }
        }
        String args = mlir.substring(start, i - 1);
        var out = new ArrayList<TensorType>();
        var m = java.util.regex.Pattern.compile("%[\\w.$-]+\\s*:\\s*tensor<([^>]*)>").matcher(args);
        while (m.find()) {
            TensorType t = parse(m.group(1));
            if (t == null) {
                return null;
            }
            out.add(t);
        }
        return out;
    }
}
