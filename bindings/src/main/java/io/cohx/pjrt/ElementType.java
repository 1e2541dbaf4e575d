package io.cohx.pjrt;

/**
 * PJRT buffer element types with their C API codes ({@code PJRT_Buffer_Type}, not
 * {@code xla.PrimitiveType}: BF16 is 13 here) and their size on the host.
 */
public enum ElementType {
    INVALID(0, 0), PRED(1, 1), S8(2, 1), S16(3, 2), S32(4, 4), S64(5, 8), U8(6, 1), U16(7, 2), U32(8, 4), U64(9, 8),
    F16(10, 2), F32(11, 4), F64(12, 8), BF16(13, 2), C64(14, 8), C128(15, 16);

    private final int code;
    private final int byteSize;

    ElementType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /** The {@code PJRT_Buffer_Type} value. */
    public int code() {
        return code;
    }

    /** Bytes per element in a dense host buffer. */
    public int byteSize() {
        return byteSize;
    }

    public static ElementType ofCode(int code) {
        for (ElementType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new PjrtException(ErrorCode.UNIMPLEMENTED, "PJRT element type " + code + " is not supported by cohx");
    }
}
