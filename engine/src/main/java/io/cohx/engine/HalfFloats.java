package io.cohx.engine;

/**
 * Exact conversions to bfloat16 and IEEE half, rounding to nearest even. From a double the
 * value is first narrowed to float with round-to-odd, which makes the second rounding exact
 * (float keeps more than two extra bits over both 16-bit formats).
 */
public final class HalfFloats {
    private HalfFloats() {}

    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    public static short toBf16(double d) {
        return toBf16(toFloatRoundToOdd(d));
    }

    public static float bf16ToFloat(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    public static short toF16(float f) {
        return Float.floatToFloat16(f);
    }

    public static short toF16(double d) {
        return Float.floatToFloat16(toFloatRoundToOdd(d));
    }

    public static float f16ToFloat(short h) {
        return Float.float16ToFloat(h);
    }

    /** Narrows to float truncating toward zero, setting the last bit if anything was dropped. */
    static float toFloatRoundToOdd(double d) {
        float f = (float) d;
        if (Double.isNaN(d) || Double.isInfinite(d) || (double) f == d) {
            return f;
        }
        if (Float.isInfinite(f)) {
            return Math.copySign(Float.MAX_VALUE, (float) d);
        }
        if (Math.abs((double) f) > Math.abs(d)) {
            f = Math.nextAfter(f, 0.0);
        }
        return Float.intBitsToFloat(Float.floatToRawIntBits(f) | 1);
    }
}
