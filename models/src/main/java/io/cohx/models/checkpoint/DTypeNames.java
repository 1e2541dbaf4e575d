package io.cohx.models.checkpoint;

import io.cohx.engine.DType;

import java.util.List;
import java.util.function.Function;

/**
 * How the checkpoint formats cohx reads and writes name an element type: safetensors
 * ({@code BF16}), numpy/flax ({@code bfloat16}, which is also Hugging Face's {@code torch_dtype})
 * and PyTorch's storage classes ({@code BFloat16Storage}). One row per type; all multi-byte types
 * are little-endian in every format. {@link DType#U32} has no row: no checkpoint cohx writes holds one.
 *
 * @param dtype        the element type
 * @param safetensors  name in a safetensors header
 * @param numpy        numpy's {@code dtype.name}, which flax writes into msgpack ndarrays
 * @param torchStorage PyTorch's legacy storage class name in {@code .pth} pickles
 */
public record DTypeNames(DType dtype, String safetensors, String numpy, String torchStorage) {

    private static final List<DTypeNames> TABLE = List.of(
            new DTypeNames(DType.F32, "F32", "float32", "FloatStorage"),
            new DTypeNames(DType.BF16, "BF16", "bfloat16", "BFloat16Storage"),
            new DTypeNames(DType.F16, "F16", "float16", "HalfStorage"),
            new DTypeNames(DType.F64, "F64", "float64", "DoubleStorage"),
            new DTypeNames(DType.S32, "I32", "int32", "IntStorage"),
            new DTypeNames(DType.S64, "I64", "int64", "LongStorage"),
            new DTypeNames(DType.U8, "U8", "uint8", "ByteStorage"),
            new DTypeNames(DType.PRED, "BOOL", "bool", "BoolStorage"));

    /** Every type a checkpoint may hold. */
    public static List<DTypeNames> all() {
        return TABLE;
    }

    /** The names of {@code dtype}; a type no checkpoint format has (u32) is refused. */
    public static DTypeNames of(DType dtype) {
        for (DTypeNames n : TABLE) {
            if (n.dtype == dtype) {
                return n;
            }
        }
        throw new CheckpointException(dtype + " arrays have no checkpoint type (safetensors, msgpack or torch) that cohx writes");
    }

    /** The type with safetensors name {@code name}, or null. */
    public static DType fromSafetensors(String name) {
        return find(DTypeNames::safetensors, name);
    }

    /** The type with numpy name {@code name}, or null. */
    public static DType fromNumpy(String name) {
        return find(DTypeNames::numpy, name);
    }

    private static DType find(Function<DTypeNames, String> spelling, String name) {
        return TABLE.stream().filter(n -> spelling.apply(n).equals(name)).map(DTypeNames::dtype).findFirst().orElse(null);
    }
}
