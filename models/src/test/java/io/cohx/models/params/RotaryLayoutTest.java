package io.cohx.models.params;

import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.TensorOps;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Checks the q/k permutation by computing attention scores both ways: Meta/flax rotate
 * interleaved pairs of W_meta x, Hugging Face rotates halves of W_hf x; the scores must agree.
 */
class RotaryLayoutTest {
    static final int HEADS = 3;
    static final int HD = 8;
    static final int D = HEADS * HD;

    /** Meta: pairs (2i, 2i+1) rotated by angle pos * theta^(-2i/hd). */
    static double[] ropeInterleaved(double[] x, int pos) {
        double[] y = x.clone();
        for (int h = 0; h < HEADS; h++) {
            for (int i = 0; i < HD / 2; i++) {
                double a = pos * Math.pow(10000, -2.0 * i / HD);
                int re = h * HD + 2 * i;
                int im = re + 1;
                y[re] = x[re] * Math.cos(a) - x[im] * Math.sin(a);
                y[im] = x[re] * Math.sin(a) + x[im] * Math.cos(a);
            }
        }
        return y;
    }

    /** Hugging Face: x * cos + rotate_half(x) * sin, with frequencies repeated over both halves. */
    static double[] ropeHalves(double[] x, int pos) {
        double[] y = new double[x.length];
        for (int h = 0; h < HEADS; h++) {
            for (int j = 0; j < HD; j++) {
                int i = j % (HD / 2);
                double a = pos * Math.pow(10000, -2.0 * i / HD);
                double rot = j < HD / 2 ? -x[h * HD + j + HD / 2] : x[h * HD + j - HD / 2];
                y[h * HD + j] = x[h * HD + j] * Math.cos(a) + rot * Math.sin(a);
            }
        }
        return y;
    }

    static double[] matvec(float[] w, double[] x) { // w is [out, in] row-major
        double[] y = new double[D];
        for (int o = 0; o < D; o++) {
            for (int i = 0; i < D; i++) {
                y[o] += w[o * D + i] * x[i];
            }
        }
        return y;
    }

    static double headScore(double[] q, double[] k, int h) {
        double s = 0;
        for (int j = 0; j < HD; j++) {
            s += q[h * HD + j] * k[h * HD + j];
        }
        return s;
    }

    @Test
    void permutedWeightsGiveTheSameAttentionScores() {
        var rnd = new SplittableRandom(11);
        float[] wq = new float[D * D];
        float[] wk = new float[D * D];
        for (int i = 0; i < wq.length; i++) {
            wq[i] = (float) rnd.nextGaussian();
            wk[i] = (float) rnd.nextGaussian();
        }
        try (Arena a = Arena.ofConfined()) {
            int[] perm = RotaryLayout.interleavedToHalves(HEADS, HD);
            float[] wqHf = TensorOps.permuteRows(HostTensor.ofFloats("q", new long[] {D, D}, wq), perm, a).toFloats();
            float[] wkHf = TensorOps.permuteRows(HostTensor.ofFloats("k", new long[] {D, D}, wk), perm, a).toFloats();
            double[] x1 = rnd.doubles(D).toArray();
            double[] x2 = rnd.doubles(D).toArray();
            for (int p1 : new int[] {0, 5}) {
                for (int p2 : new int[] {3, 17}) {
                    double[] qm = ropeInterleaved(matvec(wq, x1), p1);
                    double[] km = ropeInterleaved(matvec(wk, x2), p2);
                    double[] qh = ropeHalves(matvec(wqHf, x1), p1);
                    double[] kh = ropeHalves(matvec(wkHf, x2), p2);
                    for (int h = 0; h < HEADS; h++) {
                        assertEquals(headScore(qm, km, h), headScore(qh, kh, h), 1e-9, "head " + h);
                    }
                    for (int r = 0; r < D; r++) { // and the rotated vectors are the same rows, reordered
                        assertEquals(qm[perm[r]], qh[r], 1e-9);
                    }
                }
            }
        }
    }

    @Test
    void inverseUndoesForward() {
        int[] f = RotaryLayout.interleavedToHalves(4, 6);
        int[] inv = RotaryLayout.halvesToInterleaved(4, 6);
        int[] id = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            id[i] = f[inv[i]];
        }
        int[] want = new int[f.length];
        for (int i = 0; i < want.length; i++) {
            want[i] = i;
        }
        assertArrayEquals(want, id);
        assertArrayEquals(new int[] {0, 2, 4, 1, 3, 5}, java.util.Arrays.copyOf(f, 6));
    }
}
