package io.cohx.models.gguf;

import java.util.List;
import java.util.stream.Stream;

/**
 * The tensor element types of GGUF files (ggml's {@code ggml_type}), with their numeric ids, block
 * sizes (values per block) and type sizes (bytes per block). Types cohx dequantizes are marked
 * {@code readable}; the others are listed so that an error can name what a file holds. Ids 4 and 5
 * (the removed Q4_2/Q4_3) and 31-33, 36-38 (removed repacked layouts) are not types any more.
 */
public enum GgmlType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 18, true),
    Q4_1(3, 32, 20, true),
    Q5_0(6, 32, 22, true),
    Q5_1(7, 32, 24, true),
    Q8_0(8, 32, 34, true),
    Q8_1(9, 32, 40, false),
    Q2_K(10, 256, 84, false),
    Q3_K(11, 256, 110, false),
    Q4_K(12, 256, 144, true),
    Q5_K(13, 256, 176, true),
    Q6_K(14, 256, 210, true),
    Q8_K(15, 256, 292, true),
    IQ2_XXS(16, 256, 66, false),
    IQ2_XS(17, 256, 74, false),
    IQ3_XXS(18, 256, 98, false),
    IQ1_S(19, 256, 50, false),
    IQ4_NL(20, 32, 18, false),
    IQ3_S(21, 256, 110, false),
    IQ2_S(22, 256, 82, false),
    IQ4_XS(23, 256, 136, false),
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    IQ1_M(29, 256, 56, false),
    BF16(30, 1, 2, true),
    TQ1_0(34, 256, 54, false),
    TQ2_0(35, 256, 66, false),
    MXFP4(39, 32, 17, false),
    NVFP4(40, 64, 36, false),
    Q1_0(41, 128, 18, false);

    private final int id;
    private final int blockSize;
    private final int typeSize;
    private final boolean readable;

    GgmlType(int id, int blockSize, int typeSize, boolean readable) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.readable = readable;
    }

    public int id() {
        return id;
    }

    /** Values per block (1 for plain float and integer types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int typeSize() {
        return typeSize;
    }

    /** Whether cohx dequantizes this type. */
    public boolean readable() {
        return readable;
    }

    /** Bytes of {@code elements} values; {@code elements} must be a whole number of blocks. */
    public long byteSize(long elements) {
        return elements / blockSize * typeSize;
    }

    /** The type with ggml id {@code id}, or null. */
    public static GgmlType byId(long id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /** The type named {@code name} (case-insensitive, e.g. "q8_0"), or null. */
    public static GgmlType byName(String name) {
        for (GgmlType t : values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        return null;
    }

    /** The types cohx reads, for messages. */
    public static List<GgmlType> readableTypes() {
        return Stream.of(values()).filter(GgmlType::readable).toList();
    }
}
