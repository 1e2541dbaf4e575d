package io.cohx.models.gguf;

import io.cohx.engine.DType;
import io.cohx.engine.HalfFloats;
import io.cohx.models.checkpoint.CheckpointException;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Dequantization of GGUF tensor data to f32 (or to bf16 by rounding that f32 to nearest even),
 * block by block, as the format defines each type. The arithmetic is single-precision and in the
 * order of the reference ({@code gguf.quants.dequantize}: e.g. Q4_1 is {@code d * q + m} with
 * two roundings, K-quant sub-block scales are {@code d * scale} first), so results agree bit for
 * bit; Java never fuses a multiply and an add on its own.
 */
final class Dequantize {
    private Dequantize() {}

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Writes the {@code count} values held in {@code src} (data of {@code type}) to {@code dst} as
     * {@code out} (F32 or BF16) little-endian; {@code count} is a whole number of blocks.
     */
    static void run(GgmlType type, MemorySegment src, long count, MemorySegment dst, DType out) {
        if (out != DType.F32 && out != DType.BF16) {
            throw new IllegalArgumentException("GGUF tensors dequantize to f32 or bf16, not " + out);
        }
        if (type == GgmlType.F32 && out == DType.F32) {
            MemorySegment.copy(src, 0, dst, 0, count * 4);
            return;
        }
        if (type == GgmlType.BF16 && out == DType.BF16) {
            MemorySegment.copy(src, 0, dst, 0, count * 2);
            return;
        }
        if (!type.readable()) {
            throw new CheckpointException("GGUF tensor type " + type + " cannot be dequantized by cohx; it reads "
                    + GgmlType.readableTypes());
        }
        // Chunks of whole blocks are copied into heap arrays, decoded there and stored in bulk:
        // per-element segment accesses would cost several times more.
        int block = type.blockSize();
        int size = type.typeSize();
        int blocksPerChunk = Math.max(1, CHUNK / block);
        byte[] in = new byte[blocksPerChunk * size];
        float[] y = new float[blocksPerChunk * block];
        short[] h = out == DType.BF16 ? new short[y.length] : null;
        long blocks = count / block;
        for (long b0 = 0; b0 < blocks; b0 += blocksPerChunk) {
            int nb = (int) Math.min(blocksPerChunk, blocks - b0);
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, b0 * size, in, 0, nb * size);
            decode(type, in, nb, y);
            int n = nb * block;
            long o = b0 * block;
            if (h == null) {
                MemorySegment.copy(y, 0, dst, F32, o * 4, n);
            } else {
                for (int j = 0; j < n; j++) {
                    h[j] = HalfFloats.toBf16(y[j]);
                }
                MemorySegment.copy(h, 0, dst, I16, o * 2, n);
            }
        }
    }

    /** Values decoded per chunk. */
    private static final int CHUNK = 1 << 14;

    private static void decode(GgmlType type, byte[] in, int nb, float[] y) {
        int size = type.typeSize();
        int block = type.blockSize();
        switch (type) {
            case F32 -> {
                for (int j = 0; j < nb; j++) {
                    y[j] = Float.intBitsToFloat(i32(in, 4 * j));
                }
            }
            case F16 -> {
                for (int j = 0; j < nb; j++) {
                    y[j] = Float.float16ToFloat(i16(in, 2 * j));
                }
            }
            case BF16 -> {
                for (int j = 0; j < nb; j++) {
                    y[j] = HalfFloats.bf16ToFloat(i16(in, 2 * j));
                }
            }
            default -> {
                for (int b = 0; b < nb; b++) {
                    int at = b * size;
                    int yo = b * block;
                    switch (type) {
                        case Q4_0 -> q4_0(in, at, y, yo);
                        case Q4_1 -> q4_1(in, at, y, yo);
                        case Q5_0 -> q5_0(in, at, y, yo);
                        case Q5_1 -> q5_1(in, at, y, yo);
                        case Q8_0 -> q8_0(in, at, y, yo);
                        case Q4_K -> q4_k(in, at, y, yo);
                        case Q5_K -> q5_k(in, at, y, yo);
                        case Q6_K -> q6_k(in, at, y, yo);
                        case Q8_K -> q8_k(in, at, y, yo);
                        default -> throw new IllegalStateException(type.toString());
                    }
                }
            }
        }
    }

    private static short i16(byte[] b, int at) {
        return (short) ((b[at] & 0xFF) | (b[at + 1] << 8));
    }

    private static int i32(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | b[at + 3] << 24;
    }

    private static float f16(byte[] b, int at) {
        return Float.float16ToFloat(i16(b, at));
    }

    private static int u8(byte[] b, int at) {
        return b[at] & 0xFF;
    }

    // Q4_0: f16 d, 16 bytes of nibbles; value j (low nibbles) and j+16 (high) = (q - 8) * d.
    private static void q4_0(byte[] s, int at, float[] y, int yo) {
        float d = f16(s, at);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 2 + j);
            y[yo + j] = d * (float) ((q & 0xF) - 8);
            y[yo + j + 16] = d * (float) ((q >> 4) - 8);
        }
    }

    // Q4_1: f16 d, f16 m, nibbles; d * q + m.
    private static void q4_1(byte[] s, int at, float[] y, int yo) {
        float d = f16(s, at);
        float m = f16(s, at + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 4 + j);
            y[yo + j] = d * (float) (q & 0xF) + m;
            y[yo + j + 16] = d * (float) (q >> 4) + m;
        }
    }

    // Q5_0: f16 d, u32 of fifth bits (bit j for value j), nibbles; (q - 16) * d.
    private static void q5_0(byte[] s, int at, float[] y, int yo) {
        float d = f16(s, at);
        int qh = i32(s, at + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 6 + j);
            int lo = (q & 0xF) | (((qh >>> j) & 1) << 4);
            int hi = (q >> 4) | (((qh >>> (j + 16)) & 1) << 4);
            y[yo + j] = d * (float) (lo - 16);
            y[yo + j + 16] = d * (float) (hi - 16);
        }
    }

    // Q5_1: f16 d, f16 m, fifth bits, nibbles; d * q + m.
    private static void q5_1(byte[] s, int at, float[] y, int yo) {
        float d = f16(s, at);
        float m = f16(s, at + 2);
        int qh = i32(s, at + 4);
        for (int j = 0; j < 16; j++) {
            int q = u8(s, at + 8 + j);
            int lo = (q & 0xF) | (((qh >>> j) & 1) << 4);
            int hi = (q >> 4) | (((qh >>> (j + 16)) & 1) << 4);
            y[yo + j] = d * (float) lo + m;
            y[yo + j + 16] = d * (float) hi + m;
        }
    }

    // Q8_0: f16 d, 32 int8; q * d.
    private static void q8_0(byte[] s, int at, float[] y, int yo) {
        float d = f16(s, at);
        for (int j = 0; j < 32; j++) {
            y[yo + j] = (float) s[at + 2 + j] * d;
        }
    }

    /**
     * The 8 six-bit scales and mins of a Q4_K/Q5_K super-block from its 12 bytes at {@code at}:
     * sub-blocks 0-3 keep theirs in the low 6 bits of bytes 0-3 (scales) and 4-7 (mins); 4-7 in
     * the nibbles of bytes 8-11 plus the top 2 bits of bytes 0-7.
     */
    private static void scaleMin(byte[] s, int at, int[] sc, int[] mn) {
        for (int j = 0; j < 4; j++) {
            int d = u8(s, at + j);
            int m = u8(s, at + 4 + j);
            int md = u8(s, at + 8 + j);
            sc[j] = d & 0x3F;
            mn[j] = m & 0x3F;
            sc[j + 4] = (md & 0x0F) | ((d >> 2) & 0x30);
            mn[j + 4] = (md >> 4) | ((m >> 2) & 0x30);
        }
    }

    // Q4_K: f16 d, f16 dmin, 12 scale bytes, 128 bytes of nibbles: sub-block 2c / 2c+1 are the
    // low / high nibbles of bytes 32c..32c+31; value = (d * sc) * q - (dmin * m).
    private static void q4_k(byte[] s, int at, float[] y, int yo) {
        float d = f16(s, at);
        float dmin = f16(s, at + 2);
        int[] sc = new int[8];
        int[] mn = new int[8];
        scaleMin(s, at + 4, sc, mn);
        for (int sb = 0; sb < 8; sb++) {
            float ds = d * (float) sc[sb];
            float dm = dmin * (float) mn[sb];
            int qs = at + 16 + (sb / 2) * 32;
            int shift = (sb % 2) * 4;
            for (int l = 0; l < 32; l++) {
                int q = (u8(s, qs + l) >> shift) & 0xF;
                y[yo + sb * 32 + l] = ds * (float) q - dm;
            }
        }
    }

    // Q5_K: as Q4_K with 32 bytes of fifth bits first: bit sb of byte l is the fifth bit of value l of sub-block sb.
    private static void q5_k(byte[] s, int at, float[] y, int yo) {
        float d = f16(s, at);
        float dmin = f16(s, at + 2);
        int[] sc = new int[8];
        int[] mn = new int[8];
        scaleMin(s, at + 4, sc, mn);
        int qh = at + 16;
        for (int sb = 0; sb < 8; sb++) {
            float ds = d * (float) sc[sb];
            float dm = dmin * (float) mn[sb];
            int qs = at + 48 + (sb / 2) * 32;
            int shift = (sb % 2) * 4;
            for (int l = 0; l < 32; l++) {
                int q = ((u8(s, qs + l) >> shift) & 0xF) | (((u8(s, qh + l) >> sb) & 1) << 4);
                y[yo + sb * 32 + l] = ds * (float) q - dm;
            }
        }
    }

    // Q6_K: 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 int8 scales, f16 d last.
    // Value p (of 256): half h = p/128 uses ql[64h..], qh[32h..]; within a half, quarter k = (p%128)/32
    // takes the low nibble of ql[l] (k=0) or ql[l+32] (k=1), the high nibble of ql[l] (2) or ql[l+32] (3),
    // and bits 2k..2k+1 of qh[l]; value = (d * scale[p/16]) * (q - 32).
    private static void q6_k(byte[] s, int at, float[] y, int yo) {
        float d = f16(s, at + 208);
        for (int p = 0; p < 256; p++) {
            int h = p / 128;
            int k = (p % 128) / 32;
            int l = p % 32;
            int ql = u8(s, at + 64 * h + l + (k % 2) * 32);
            int lo = k < 2 ? ql & 0xF : ql >> 4;
            int hi = (u8(s, at + 128 + 32 * h + l) >> (2 * k)) & 3;
            float ds = d * (float) s[at + 192 + p / 16];
            y[yo + p] = ds * (float) ((lo | (hi << 4)) - 32);
        }
    }

    // Q8_K: f32 d, 256 int8, 16 int16 block sums (only used by dot products); d * q.
    private static void q8_k(byte[] s, int at, float[] y, int yo) {
        float d = Float.intBitsToFloat(i32(s, at));
        for (int j = 0; j < 256; j++) {
            y[yo + j] = d * (float) s[at + 4 + j];
        }
    }
}
