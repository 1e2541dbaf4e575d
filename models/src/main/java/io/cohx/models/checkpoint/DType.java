package io.cohx.models.checkpoint;

import java.util.Locale;

/**
 * Element types a checkpoint tensor may have on the host, with their names in each format we
 * read or write: safetensors ({@code F32}), numpy/flax ({@code float32}) and PyTorch storage
 * classes ({@code FloatStorage}). All multi-byte types are little-endian in every format.
 */
public enum DType {
    F32(4, "F32", "float32", "FloatStorage", true),
    BF16(2, "BF16", "bfloat16", "BFloat16Storage", true),
    F16(2, "F16", "float16", "HalfStorage", true),
    F64(8, "F64", "float64", "DoubleStorage", true),
    I32(4, "I32", "int32", "IntStorage", false),
    I64(8, "I64", "int64", "LongStorage", false),
    U8(1, "U8", "uint8", "ByteStorage", false),
    BOOL(1, "BOOL", "bool", "BoolStorage", false);

    private final int byteSize;
    private final String safetensorsName;
    private final String numpyName;
    private final String torchStorage;
    private final boolean floating;

    DType(int byteSize, String safetensorsName, String numpyName, String torchStorage, boolean floating) {
        this.byteSize = byteSize;
        this.safetensorsName = safetensorsName;
        this.numpyName = numpyName;
        this.torchStorage = torchStorage;
        this.floating = floating;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloating() {
        return floating;
    }

    /** Name in a safetensors header, e.g. {@code BF16}. */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** numpy's {@code dtype.name}, which flax writes into msgpack ndarrays, e.g. {@code bfloat16}. */
    public String numpyName() {
        return numpyName;
    }

    /** PyTorch's legacy storage class name used in {@code .pth} pickles, e.g. {@code HalfStorage}. */
    public String torchStorage() {
        return torchStorage;
    }

    /** {@code torch_dtype} as Hugging Face config.json writes it (float types only). */
    public String torchDtypeName() {
        return numpyName;
    }

    /** The engine's type with the same bytes (to hand a checkpoint tensor to the engine). */
    public io.cohx.engine.DType engineType() {
        return switch (this) {
            case F32 -> io.cohx.engine.DType.F32;
            case BF16 -> io.cohx.engine.DType.BF16;
            case F16 -> io.cohx.engine.DType.F16;
            case F64 -> io.cohx.engine.DType.F64;
            case I32 -> io.cohx.engine.DType.S32;
            case I64 -> io.cohx.engine.DType.S64;
            case U8 -> io.cohx.engine.DType.U8;
            case BOOL -> io.cohx.engine.DType.PRED;
        };
    }

    /** The checkpoint type of an engine type; engine types no checkpoint format has (u32) are refused. */
    public static DType of(io.cohx.engine.DType t) {
        for (DType d : values()) {
            if (d.engineType() == t) {
                return d;
            }
        }
        throw new CheckpointException(t.name().toLowerCase(java.util.Locale.ROOT)
                + " arrays have no checkpoint type (safetensors, msgpack or torch) that cohx writes");
    }

    /** The type with safetensors name {@code name}, or null. */
    public static DType fromSafetensors(String name) {
        for (DType d : values()) {
            if (d.safetensorsName.equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** The type with numpy name {@code name}, or null. */
    public static DType fromNumpy(String name) {
        for (DType d : values()) {
            if (d.numpyName.equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** The type of PyTorch storage class {@code name}, or null. */
    public static DType fromTorchStorage(String name) {
        for (DType d : values()) {
            if (d.torchStorage.equals(name)) {
                return d;
            }
        }
        return null;
    }

    /**
     * Parses a user's spelling: {@code f32}, {@code float32}, {@code fp32}, {@code bf16},
     * {@code bfloat16}, {@code f16}, {@code fp16}, {@code float16}, {@code half}, and the names above.
     */
    public static DType parse(String s) {
        String k = s.trim().toLowerCase(Locale.ROOT);
        return switch (k) {
            case "f32", "fp32", "float32", "float" -> F32;
            case "bf16", "bfloat16" -> BF16;
            case "f16", "fp16", "float16", "half" -> F16;
            case "f64", "fp64", "float64", "double" -> F64;
            case "i32", "int32" -> I32;
            case "i64", "int64" -> I64;
            case "u8", "uint8" -> U8;
            case "bool" -> BOOL;
            default -> throw new IllegalArgumentException(
                    "unknown dtype '" + s + "'; use one of f32, bf16, f16, f64, i32, i64, u8, bool");
        };
    }
}
