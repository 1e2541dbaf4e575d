package io.cohx.eval;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * The 95% confidence intervals of cohx eval. Proportions (accuracy, win/tie/loss shares) get the
 * Wilson score interval, which stays inside [0, 1] and behaves at 0 or n successes and at small
 * n, where the plain normal interval does not. Means of per-example numbers (ROUGE F1, loss)
 * get a percentile bootstrap over examples: {@link #BOOTSTRAP_RESAMPLES} resamples with a fixed
 * seed, so the same inputs always give the same interval.
 */
public final class Intervals {
    /** The normal quantile of a two-sided 95% interval. */
    public static final double Z95 = 1.959963984540054;
    public static final int BOOTSTRAP_RESAMPLES = 2000;
    public static final long BOOTSTRAP_SEED = 20230206L;

    private Intervals() {}

    /** Wilson score interval of {@code successes} out of {@code n}; n = 0 gives NaN bounds. */
    public static Estimate wilson(long successes, long n) {
        if (n == 0) {
            return new Estimate(Double.NaN, Double.NaN, Double.NaN, "wilson", 0);
        }
        double p = (double) successes / n;
        double z2 = Z95 * Z95;
        double denom = 1 + z2 / n;
        double centre = (p + z2 / (2.0 * n)) / denom;
        double half = Z95 * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denom;
        // At 0 or n successes one bound is exactly 0 or 1; rounding must not move it inside.
        double low = successes == 0 ? 0 : Math.max(0, centre - half);
        double high = successes == n ? 1 : Math.min(1, centre + half);
        return new Estimate(p, low, high, "wilson", n);
    }

    /** Mean of {@code values} with a percentile bootstrap interval. */
    public static Estimate bootstrapMean(double[] values) {
        double[] ones = new double[values.length];
        Arrays.fill(ones, 1);
        return bootstrapRatio(values, ones);
    }

    /**
     * {@code sum(numerators) / sum(denominators)} (e.g. summed token losses over token counts:
     * every token weighs the same) with a percentile bootstrap over the examples (pairs).
     */
    public static Estimate bootstrapRatio(double[] numerators, double[] denominators) {
        int n = numerators.length;
        if (n != denominators.length) {
            throw new IllegalArgumentException("numerators and denominators differ in length");
        }
        if (n == 0) {
            return new Estimate(Double.NaN, Double.NaN, Double.NaN, "bootstrap", 0);
        }
        double value = ratio(numerators, denominators, null);
        var rng = new SplittableRandom(BOOTSTRAP_SEED);
        double[] stats = new double[BOOTSTRAP_RESAMPLES];
        int[] pick = new int[n];
        for (int r = 0; r < stats.length; r++) {
            for (int i = 0; i < n; i++) {
                pick[i] = rng.nextInt(n);
            }
            stats[r] = ratio(numerators, denominators, pick);
        }
        Arrays.sort(stats);
        return new Estimate(value, quantile(stats, 0.025), quantile(stats, 0.975), "bootstrap", n);
    }

    /** Value ± 1.96 standard errors (for numbers that come with a standard error only). */
    public static Estimate normal(double value, double stderr, long n) {
        return new Estimate(value, value - Z95 * stderr, value + Z95 * stderr, "normal", n);
    }

    /** Applies {@link #bootstrapMean} to one number per item. */
    public static <T> Estimate bootstrapMean(java.util.List<T> items, ToDoubleFunction<T> f) {
        return bootstrapMean(items.stream().mapToDouble(f).toArray());
    }

    private static double ratio(double[] num, double[] den, int[] pick) {
        double a = 0;
        double b = 0;
        int n = pick == null ? num.length : pick.length;
        for (int k = 0; k < n; k++) {
            int i = pick == null ? k : pick[k];
            a += num[i];
            b += den[i];
        }
        return b == 0 ? Double.NaN : a / b;
    }

    /** Linear interpolation between order statistics (numpy's default percentile). */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
