package io.cohx.engine;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Threefry known answers, key determinism, and chi-square tests of the distributions. */
class RngTest {
    static final int N = 100_000;
    static Tree<NdArray> out;

    @BeforeAll
    static void runOnce() {
        // Everything in one program: one compile for the whole class.
        out = Run.once("rng", Tree.of("seed", Rng.keyData(42)), t -> {
            Tensor k = t.get("seed");
            Tensor other = Rng.key(43);
            Shape s = Shape.of(N);
            Tensor[] kat = Rng.threefry(Constants.of(NdArray.of(DType.U32, new double[] {0x13198a2eL, 0x03707344L}, 2)),
                    Constants.fullBits(0x243f6a88L, DType.U32, Shape.of(1)), Constants.fullBits(0x85a308d3L, DType.U32, Shape.of(1)));
            Tensor[] zero = Rng.threefry(Constants.of(NdArray.of(DType.U32, new double[] {0, 0}, 2)),
                    Constants.zeros(DType.U32, 1), Constants.zeros(DType.U32, 1));
            Tensor n = Rng.normal(Rng.foldIn(k, 1), DType.F32, s);
            Tensor tn = Rng.truncatedNormal(Rng.foldIn(k, 2), DType.F64, Shape.of(20_000), -1, 2);
            return Tree.of("u", Rng.uniform(k, DType.F32, s, 0, 1), "u_again", Rng.uniform(k, DType.F32, s, 0, 1),
                            "u_other", Rng.uniform(other, DType.F32, s, 0, 1))
                    .with("kat", Shapes.concatenate(0, kat[0], kat[1], zero[0], zero[1]))
                    .with("normal", n)
                    .with("normal_cdf", n.convert(DType.F64).mul(1 / Math.sqrt(2)).erf().add(1).mul(0.5))
                    .with("tn", tn)
                    .with("tn_cdf", tn.mul(1 / Math.sqrt(2)).erf().add(1).mul(0.5))
                    .with("u64", Rng.uniform(Rng.foldIn(k, 3), DType.F64, Shape.of(1000), -2, 3))
                    .with("ubf16", Rng.uniform(Rng.foldIn(k, 4), DType.BF16, Shape.of(5000), 0, 1))
                    .with("bern", Rng.bernoulli(Rng.foldIn(k, 5), 0.3, Shape.of(20_000)).convert(DType.F32))
                    .with("split", Rng.split(k, 4))
                    .with("fold7", Rng.foldIn(k, 7))
                    .with("bits_small", Rng.bits(k, Shape.of(2, 3)));
        });
    }

    @Test
    void threefryKnownAnswers() {
        long[] got = java.util.Arrays.stream(out.get("kat").toDoubleArray()).mapToLong(d -> (long) d).toArray();
        // Random123's threefry2x32_20 known-answer vectors.
        assertArrayEquals(new long[] {0xc4923a9cL, 0x483df7a0L, 0x6b200159L, 0x99ba4efeL}, got);
    }

    @Test
    void sameKeySameNumbersDifferentKeyDifferentNumbers() {
        assertArrayEquals(out.get("u").toFloatArray(), out.get("u_again").toFloatArray());
        float[] a = out.get("u").toFloatArray();
        float[] b = out.get("u_other").toFloatArray();
        int same = 0;
        for (int i = 0; i < a.length; i++) {
            same += a[i] == b[i] ? 1 : 0;
        }
        assertTrue(same < 20, same + " equal values from different keys");
        double[] keys = out.get("split").toDoubleArray();
        assertEquals(8, java.util.Arrays.stream(keys).distinct().count(), "split keys are distinct");
        assertFalse(java.util.Arrays.equals(out.get("fold7").toDoubleArray(), Rng.keyData(42).toDoubleArray()));
    }

    /** Pearson's statistic over equiprobable bins of values that should be uniform in [lo, hi). */
    static double chiSquare(double[] v, int bins, double lo, double hi) {
        long[] count = new long[bins];
        for (double x : v) {
            assertTrue(x >= lo && x < hi, "value " + x + " outside [" + lo + ", " + hi + ")");
            count[(int) ((x - lo) / (hi - lo) * bins)]++;
        }
        double expect = (double) v.length / bins;
        double chi = 0;
        for (long c : count) {
            chi += (c - expect) * (c - expect) / expect;
        }
        return chi;
    }

    // With 49 degrees of freedom the statistic exceeds 90 with probability ~3e-4.
    static final double CHI_LIMIT_50_BINS = 90;

    @Test
    void uniformPassesChiSquare() {
        assertTrue(chiSquare(out.get("u").toDoubleArray(), 50, 0, 1) < CHI_LIMIT_50_BINS);
        double[] u64 = out.get("u64").toDoubleArray();
        assertTrue(chiSquare(u64, 10, -2, 3) < 30);
        double[] ub = out.get("ubf16").toDoubleArray();
        assertTrue(chiSquare(ub, 16, 0, 1) < 40);
    }

    @Test
    void normalPassesChiSquareOnItsCdf() {
        double[] n = out.get("normal").toDoubleArray();
        double mean = java.util.Arrays.stream(n).average().orElseThrow();
        double var = java.util.Arrays.stream(n).map(x -> (x - mean) * (x - mean)).sum() / n.length;
        assertEquals(0, mean, 4 / Math.sqrt(N));
        assertEquals(1, var, 0.02);
        assertTrue(chiSquare(out.get("normal_cdf").toDoubleArray(), 50, 0, 1) < CHI_LIMIT_50_BINS);
    }

    @Test
    void truncatedNormalStaysInsideAndFollowsItsCdf() {
        double[] tn = out.get("tn").toDoubleArray();
        for (double x : tn) {
            assertTrue(x > -1 && x < 2, "truncated normal value " + x);
        }
        double lo = 0.15865525393145707; // Φ(-1)
        double hi = 0.9772498680518208;  // Φ(2)
        assertTrue(chiSquare(out.get("tn_cdf").toDoubleArray(), 20, lo, hi) < 50);
    }

    @Test
    void bernoulliHasItsMean() {
        double[] b = out.get("bern").toDoubleArray();
        double p = java.util.Arrays.stream(b).average().orElseThrow();
        assertEquals(0.3, p, 4 * Math.sqrt(0.3 * 0.7 / b.length));
        assertEquals(DType.U32, out.get("bits_small").dtype());
    }
}
