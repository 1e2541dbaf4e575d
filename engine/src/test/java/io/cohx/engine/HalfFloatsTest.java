package io.cohx.engine;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** bf16/f16 conversions round to nearest even, checked against exact decimal arithmetic. */
class HalfFloatsTest {

    /** Nearest value among all finite 16-bit patterns, ties to the even pattern (reference). */
    private static short nearest(double v, boolean bf16) {
        BigDecimal x = new BigDecimal(v);
        short best = 0;
        BigDecimal bestDist = null;
        for (int h = 0; h < 0x7C00 * (bf16 ? 0 : 1) + (bf16 ? 0x7F80 : 0); h++) {
            for (int sign : new int[] {0, 0x8000}) {
                short bits = (short) (h | sign);
                float f = bf16 ? HalfFloats.bf16ToFloat(bits) : Float.float16ToFloat(bits);
                BigDecimal d = new BigDecimal(f).subtract(x).abs();
                int c = bestDist == null ? -1 : d.compareTo(bestDist);
                if (c < 0 || (c == 0 && (bits & 1) == 0 && (best & 1) == 1)) {
                    best = bits;
                    bestDist = d;
                }
            }
        }
        return best;
    }

    @Test
    void tiesGoToEven() {
        // 1 + 2^-8 lies halfway between bf16 1.0 and 1 + 2^-7: rounds to 1.0 (even mantissa)
        assertEquals(HalfFloats.toBf16(1.0), HalfFloats.toBf16(1 + Math.scalb(1.0, -8)));
        // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even)
        assertEquals(HalfFloats.bf16ToFloat(HalfFloats.toBf16(1 + Math.scalb(1.0, -6))), HalfFloats.bf16ToFloat(HalfFloats.toBf16(1 + 3 * Math.scalb(1.0, -8))));
        // Just above a tie in double, below float precision: must round up (double rounding would not)
        double above = 1 + Math.scalb(1.0, -8) + Math.scalb(1.0, -40);
        assertEquals(HalfFloats.bf16ToFloat(HalfFloats.toBf16(1 + Math.scalb(1.0, -7))), HalfFloats.bf16ToFloat(HalfFloats.toBf16(above)));
        double f16above = 1 + Math.scalb(1.0, -11) + Math.scalb(1.0, -40);
        assertEquals((float) (1 + Math.scalb(1.0, -10)), Float.float16ToFloat(HalfFloats.toF16(f16above)));
    }

    @Test
    void randomValuesMatchExactReference() {
        Random r = new Random(3);
        for (int i = 0; i < 12; i++) {
            double v = (r.nextDouble() - 0.5) * Math.pow(2, r.nextInt(20) - 10);
            assertEquals(nearest(v, true), HalfFloats.toBf16(v), "bf16 of " + v);
            assertEquals(nearest(v, false), HalfFloats.toF16(v), "f16 of " + v);
        }
    }

    @Test
    void everyBf16RoundTripsAndNanStaysNan() {
        for (int h = 0; h < 0x10000; h++) {
            float f = HalfFloats.bf16ToFloat((short) h);
            if (!Float.isNaN(f)) {
                assertEquals((short) h, HalfFloats.toBf16(f));
                assertEquals((short) h, HalfFloats.toBf16((double) f));
            } else {
                assertEquals(true, Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.toBf16(f))));
            }
        }
    }

    @Test
    void ndArrayConvertsJavaArrays() {
        NdArray a = NdArray.of(DType.BF16, new double[] {1.0, 1 + Math.scalb(1.0, -8), -2.5, 65504}, 4);
        assertArrayEquals(new double[] {1.0, 1.0, -2.5, 65536}, a.toDoubleArray());
        NdArray h = NdArray.of(DType.F16, new double[] {65504, 70000, 1e-8}, 3);
        assertArrayEquals(new double[] {65504, Double.POSITIVE_INFINITY, 0}, h.toDoubleArray());
        NdArray u = NdArray.of(DType.U32, new double[] {4294967295.0, 7}, 2);
        assertArrayEquals(new double[] {4294967295.0, 7}, u.toDoubleArray());
        assertArrayEquals(new int[] {3, -4}, NdArray.of(new int[] {3, -4}, 2).toIntArray());
        assertEquals(2 * 4, NdArray.of(new float[] {1, 2}, 2).segment().byteSize());
    }
}
