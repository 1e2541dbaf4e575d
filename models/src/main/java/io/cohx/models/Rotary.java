package io.cohx.models;

import io.cohx.engine.Constants;
import io.cohx.engine.DType;
import io.cohx.engine.Indexing;
import io.cohx.engine.NdArray;
import io.cohx.engine.Shapes;
import io.cohx.engine.Tensor;

/**
 * Rotary position embeddings with interleaved pairs, the layout of Meta's LLaMA, the reference
 * flax models and GPT-J: dims {@code 2i, 2i+1} of a head form one complex number that position
 * {@code t} rotates by {@code t} times the pair's frequency ({@link Rope}: {@code theta^(-2i/dim)},
 * possibly scaled). (Hugging Face's LLaMA rotates halves instead;
 * its q/k weights are permuted on import, see {@link io.cohx.models.params.RotaryLayout}.)
 * The angle tables are built on the host, like the references' numpy tables: angles rounded to
 * f32, then their cosine and sine.
 *
 * @param cos {@code f32[S, 1, dim/2, 1]} (one position per sequence index) or
 *            {@code f32[B, S, 1, dim/2, 1]} (a position per row and index, see {@link #at})
 * @param sin same shape
 */
public record Rotary(Tensor cos, Tensor sin) {

    /** Tables for positions {@code 0..seq-1} of {@code rope}'s frequencies. */
    public static Rotary of(int seq, Rope rope) {
        int half = rope.dim() / 2;
        double[] invFreq = rope.inverseFrequencies();
        double[] c = new double[seq * half];
        double[] s = new double[seq * half];
        for (int t = 0; t < seq; t++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) (t * invFreq[i]);
                c[t * half + i] = Math.cos(angle);
                s[t * half + i] = Math.sin(angle);
            }
        }
        return new Rotary(Constants.of(NdArray.of(DType.F32, c, seq, 1, half, 1)),
                Constants.of(NdArray.of(DType.F32, s, seq, 1, half, 1)));
    }

    /**
     * Tables for per-row positions {@code s32[B, S]} (each in {@code 0..tableLength-1}): the rows
     * of the {@link #of} table of {@code tableLength} positions, so a token at position t is
     * rotated by exactly the same numbers as in a full forward pass.
     */
    public static Rotary at(Tensor positions, int tableLength, Rope rope) {
        Rotary table = of(tableLength, rope);
        int b = positions.dim(0);
        int s = positions.dim(1);
        int half = rope.dim() / 2;
        Tensor c = Indexing.take(table.cos.reshape(tableLength, half), positions).reshape(b, s, 1, half, 1);
        Tensor sn = Indexing.take(table.sin.reshape(tableLength, half), positions).reshape(b, s, 1, half, 1);
        return new Rotary(c, sn);
    }

    /**
     * Rotates the first {@code dim} dims of each head of {@code x [B, S, H, D]} (the rest pass
     * through, as GPT-J's partial rotary). Computed in f32, returned in x's dtype.
     */
    public Tensor apply(Tensor x) {
        int b = x.dim(0);
        int s = x.dim(1);
        int h = x.dim(2);
        int d = x.dim(3);
        int half = cos.dim(cos.rank() - 2);
        int dim = 2 * half;
        Tensor rot = dim == d ? x : x.slice(3, 0, dim);
        Tensor pairs = rot.convert(DType.F32).reshape(b, s, h, half, 2);
        Tensor re = pairs.slice(4, 0, 1);
        Tensor im = pairs.slice(4, 1, 2);
        Tensor out = Shapes.concatenate(4, re.mul(cos).sub(im.mul(sin)), im.mul(cos).add(re.mul(sin)))
                .reshape(b, s, h, dim).convert(x.dtype());
        return dim == d ? out : Shapes.concatenate(3, out, x.slice(3, dim, d));
    }
}
