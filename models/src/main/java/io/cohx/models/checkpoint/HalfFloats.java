package io.cohx.models.checkpoint;

/**
 * Exact conversions between f32 and the 16-bit float types, rounding to nearest even as
 * numpy, ml_dtypes and PyTorch do, so a checkpoint cast here is bit-identical to one cast there.
 * NaN stays NaN (quiet), infinities and signed zeros are kept, f16 overflow becomes infinity and
 * f16 subnormals are produced exactly.
 */
public final class HalfFloats {
    private HalfFloats() {}

    /** bf16 bits → f32 (exact). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** f32 → bf16 bits, round to nearest even. */
    public static short floatToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7fffffff) > 0x7f800000) {
            return (short) ((x >>> 16) | 0x0040); // keep sign and payload top bits, force quiet
        }
        int lsb = (x >>> 16) & 1;
        x += 0x7fff + lsb;
        return (short) (x >>> 16);
    }

    /** f16 bits → f32 (exact). */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** f32 → f16 bits, round to nearest even (the JDK's conversion is IEEE round-to-nearest-even). */
    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }
}
