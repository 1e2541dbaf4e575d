package io.cohx.eval;

/**
 * A metric's value with its 95% confidence interval and how the interval was found
 * ({@link Intervals}): {@code method} is {@code "wilson"} (binomial score interval),
 * {@code "bootstrap"} (percentile bootstrap over examples) or {@code "normal"} (value ± 1.96
 * standard errors, for numbers given with a standard error only); {@code n} is the number of
 * examples (or votes) behind it.
 */
public record Estimate(double value, double low, double high, String method, long n) {

    /** "81.2% [76.1, 85.6]" for proportions, "2.3457 [2.31, 2.38]" otherwise. */
    public String format(boolean percent) {
        if (percent) {
            return String.format("%.1f%% [%.1f, %.1f]", 100 * value, 100 * low, 100 * high);
        }
        return String.format("%.4f [%.4f, %.4f]", value, low, high);
    }
}
