package io.cohx.engine;

import io.cohx.pjrt.ElementType;

/**
 * Element types the engine computes with. Each knows its MLIR spelling, its size on the host and
 * the PJRT buffer type it maps to. There is no implicit promotion: ops that combine arrays require
 * equal dtypes and say which they got; use {@link Tensor#convert(DType)} to change one.
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

    @Override
    public String toString() {
        return shortName;
    }
}
