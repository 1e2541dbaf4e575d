package io.cohx.engine;

import io.cohx.pjrt.ElementType;

/**
 * The element types of cohx: what the engine computes with and what checkpoint tensors hold on
 * the host. Each knows its MLIR spelling, its size on the host and the PJRT buffer type it maps
 * to; the names checkpoint formats give it live with those formats
 * ({@code io.cohx.models.checkpoint.DTypeNames}). There is no implicit promotion: ops that combine
 * arrays require equal dtypes and say which they got; use {@link Tensor#convert(DType)} to change one.
 */
public enum DType {
    F32("f32", "f32", 4, Kind.FLOAT, ElementType.F32),
    BF16("bf16", "bf16", 2, Kind.FLOAT, ElementType.BF16),
    F16("f16", "f16", 2, Kind.FLOAT, ElementType.F16),
    F64("f64", "f64", 8, Kind.FLOAT, ElementType.F64),
    S32("s32", "i32", 4, Kind.SIGNED, ElementType.S32),
    S64("s64", "i64", 8, Kind.SIGNED, ElementType.S64),
    U32("u32", "ui32", 4, Kind.UNSIGNED, ElementType.U32),
    U8("u8", "ui8", 1, Kind.UNSIGNED, ElementType.U8),
    PRED("pred", "i1", 1, Kind.BOOL, ElementType.PRED);

    enum Kind { FLOAT, SIGNED, UNSIGNED, BOOL }

    private final String shortName;
    private final String mlir;
    private final int byteSize;
    private final Kind kind;
    private final ElementType elementType;

    DType(String shortName, String mlir, int byteSize, Kind kind, ElementType elementType) {
        this.shortName = shortName;
        this.mlir = mlir;
        this.byteSize = byteSize;
        this.kind = kind;
        this.elementType = elementType;
    }

    /** The element type as MLIR spells it inside {@code tensor<...>}. */
    public String mlir() {
        return mlir;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloating() {
        return kind == Kind.FLOAT;
    }

    public boolean isInteger() {
        return kind == Kind.SIGNED || kind == Kind.UNSIGNED;
    }

    public boolean isUnsigned() {
        return kind == Kind.UNSIGNED;
    }

    public boolean isBool() {
        return kind == Kind.BOOL;
    }

    /** The comparison type StableHLO's compare wants for this dtype. */
    String compareType() {
        return switch (kind) {
            case FLOAT -> "FLOAT";
            case SIGNED -> "SIGNED";
            case UNSIGNED, BOOL -> "UNSIGNED";
        };
    }

    public ElementType elementType() {
        return elementType;
    }

    public static DType of(ElementType t) {
        for (DType d : values()) {
            if (d.elementType == t) {
                return d;
            }
        }
        throw new EngineException("PJRT element type " + t + " has no engine dtype; the engine supports "
                + java.util.Arrays.toString(values()));
    }

    /**
     * Parses a user's spelling: {@code f32}, {@code fp32}, {@code float32}, {@code bf16},
     * {@code bfloat16}, {@code f16}, {@code fp16}, {@code half}, {@code f64}, {@code s32} /
     * {@code i32} / {@code int32}, {@code s64} / {@code i64}, {@code u32}, {@code u8},
     * {@code bool} / {@code pred}; the error lists the spellings.
     */
    public static DType parse(String s) {
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "f32", "fp32", "float32", "float" -> F32;
            case "bf16", "bfloat16" -> BF16;
            case "f16", "fp16", "float16", "half" -> F16;
            case "f64", "fp64", "float64", "double" -> F64;
            case "s32", "i32", "int32" -> S32;
            case "s64", "i64", "int64" -> S64;
            case "u32", "uint32" -> U32;
            case "u8", "uint8" -> U8;
            case "bool", "pred" -> PRED;
            default -> throw new EngineException("unknown dtype '" + s + "'; use one of f32, bf16, f16, f64, i32, i64, u32, u8, bool");
        };
    }

    @Override
    public String toString() {
        return shortName;
    }
}
