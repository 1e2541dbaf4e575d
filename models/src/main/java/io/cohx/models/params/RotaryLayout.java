package io.cohx.models.params;

/**
 * Row orders of the LLaMA q/k projections. Meta's checkpoints and the reference flax model rotate
 * interleaved pairs (dims 2i, 2i+1 of a head form one complex number); Hugging Face's
 * {@code LlamaForCausalLM} rotates halves (dims i and i + headDim/2). Converting weights permutes
 * the output rows of wq/wk within each head so both models compute the same attention scores.
 */
public final class RotaryLayout {
    private RotaryLayout() {}

    /**
     * For Meta/flax → Hugging Face: row {@code r} of the HF weight ([out, in]) is row
     * {@code result[r]} of the Meta weight. Within head h, HF row {@code h*hd + j*hd/2 + i} is
     * Meta row {@code h*hd + 2i + j} (j = 0 real part, 1 imaginary part).
     */
    public static int[] interleavedToHalves(int heads, int headDim) {
        int half = headDim / 2;
        int[] src = new int[heads * headDim];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < 2; j++) {
                for (int i = 0; i < half; i++) {
                    src[h * headDim + j * half + i] = h * headDim + 2 * i + j;
                }
            }
        }
        return src;
    }

    /** For Hugging Face → Meta/flax: the inverse of {@link #interleavedToHalves}. */
    public static int[] halvesToInterleaved(int heads, int headDim) {
        int[] fwd = interleavedToHalves(heads, headDim);
        int[] inv = new int[fwd.length];
        for (int r = 0; r < fwd.length; r++) {
            inv[fwd[r]] = r;
        }
        return inv;
    }
}
