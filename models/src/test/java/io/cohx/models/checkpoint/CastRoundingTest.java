package io.cohx.models.checkpoint;

import io.cohx.engine.DType;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine's f32→bf16/f16 rounding, as checkpoint casts use it, against exact arithmetic. */
class CastRoundingTest {

    /** Nearest bf16 by exact decimal arithmetic, ties to the even mantissa: independent of the bit trick. */
    private static short nearestBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int down = bits & 0xffff0000;
        int up = down + 0x10000;
        BigDecimal x = new BigDecimal(f);
        BigDecimal dDown = x.subtract(new BigDecimal(Float.intBitsToFloat(down))).abs();
        float upF = Float.intBitsToFloat(up);
        if (Float.isInfinite(upF) || Float.isNaN(upF)) {
            // Rounding up overflows: only when past half the last step, as IEEE does.
            BigDecimal step = new BigDecimal(Math.ulp(Float.intBitsToFloat(down))).multiply(BigDecimal.valueOf(65536));
            int c = dDown.compareTo(step.divide(BigDecimal.valueOf(2)));
            return (short) ((c > 0 || (c == 0 && ((down >>> 16) & 1) == 1) ? up : down) >>> 16);
        }
        BigDecimal dUp = new BigDecimal(upF).subtract(x).abs();
        int c = dDown.compareTo(dUp);
        int pick = c < 0 ? down : c > 0 ? up : (((down >>> 16) & 1) == 0 ? down : up);
        return (short) (pick >>> 16);
    }

    @Test
    void bf16RoundsToNearestEvenLikeExactArithmetic() {
        var rnd = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            float f = Float.intBitsToFloat(rnd.nextInt());
            if (Float.isNaN(f) || Float.isInfinite(f)) {
                continue;
            }
            assertEquals(nearestBf16(f), io.cohx.engine.HalfFloats.toBf16(f), () -> "bf16 of " + f);
        }
        // exact ties: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7 -> even (1); 1 + 3*2^-8 -> up
        assertEquals((short) 0x3f80, io.cohx.engine.HalfFloats.toBf16(1f + 0x1p-8f));
        assertEquals((short) 0x3f82, io.cohx.engine.HalfFloats.toBf16(1f + 3 * 0x1p-8f));
    }

    @Test
    void bf16KeepsSpecials() {
        assertEquals((short) 0x7f80, io.cohx.engine.HalfFloats.toBf16(Float.POSITIVE_INFINITY));
        assertEquals((short) 0x8000, io.cohx.engine.HalfFloats.toBf16(-0f));
        assertTrue(Float.isNaN(io.cohx.engine.HalfFloats.bf16ToFloat(io.cohx.engine.HalfFloats.toBf16(Float.NaN))));
        assertEquals(-2.5f, io.cohx.engine.HalfFloats.bf16ToFloat(io.cohx.engine.HalfFloats.toBf16(-2.5f)));
    }

    @Test
    void f16RoundsOverflowsAndSubnormals() {
        assertEquals(65504f, io.cohx.engine.HalfFloats.f16ToFloat(io.cohx.engine.HalfFloats.toF16(65504f)));
        assertEquals(Float.POSITIVE_INFINITY, io.cohx.engine.HalfFloats.f16ToFloat(io.cohx.engine.HalfFloats.toF16(65520f)));
        assertEquals(0x1p-24f, io.cohx.engine.HalfFloats.f16ToFloat(io.cohx.engine.HalfFloats.toF16(0x1p-24f)));
        assertEquals(0f, io.cohx.engine.HalfFloats.f16ToFloat(io.cohx.engine.HalfFloats.toF16(0x1p-26f)));
        // 1 + 2^-11 is a tie between 1 and 1 + 2^-10: even -> 1
        assertEquals(1f, io.cohx.engine.HalfFloats.f16ToFloat(io.cohx.engine.HalfFloats.toF16(1f + 0x1p-11f)));
    }

    @Test
    void castF32ToBf16AndBackIsExactForRepresentableValues() {
        HostTensor t = HostTensor.ofFloats("w", new long[] {2, 2}, 0.5f, -3f, 1024f, 0.0078125f);
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            HostTensor b = TensorOps.cast(t, DType.BF16, arena);
            assertEquals(DType.BF16, b.dtype());
            assertEquals(8, b.byteSize());
            assertTrue(TensorOps.cast(b, DType.F32, arena).contentEquals(t));
            assertTrue(TensorOps.cast(TensorOps.cast(t, DType.F16, arena), DType.F32, arena).contentEquals(t));
        }
    }
}
