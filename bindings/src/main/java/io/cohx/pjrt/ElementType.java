package io.cohx.pjrt;

import static io.cohx.pjrt.capi.PjrtCApi.*;

/**
 * PJRT buffer element types with their C API codes ({@code PJRT_Buffer_Type} from the generated
 * header, not {@code xla.PrimitiveType}: BF16 is 13 here) and their size on the host.
 */
public enum ElementType {
    INVALID(PJRT_Buffer_Type_INVALID(), 0), PRED(PJRT_Buffer_Type_PRED(), 1),
    S8(PJRT_Buffer_Type_S8(), 1), S16(PJRT_Buffer_Type_S16(), 2), S32(PJRT_Buffer_Type_S32(), 4), S64(PJRT_Buffer_Type_S64(), 8),
    U8(PJRT_Buffer_Type_U8(), 1), U16(PJRT_Buffer_Type_U16(), 2), U32(PJRT_Buffer_Type_U32(), 4), U64(PJRT_Buffer_Type_U64(), 8),
    F16(PJRT_Buffer_Type_F16(), 2), F32(PJRT_Buffer_Type_F32(), 4), F64(PJRT_Buffer_Type_F64(), 8), BF16(PJRT_Buffer_Type_BF16(), 2),
    C64(PJRT_Buffer_Type_C64(), 8), C128(PJRT_Buffer_Type_C128(), 16);

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
