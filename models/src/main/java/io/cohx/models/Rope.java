package io.cohx.models;

import io.cohx.models.config.RopeScaling;

/**
 * The frequencies of a model's rotary position embeddings: the first {@code dim} dims of each head
 * form {@code dim/2} pairs, pair i turning at {@code theta^(-2i/dim)} radians per position,
 * optionally stretched by a {@link RopeScaling} (Hugging Face's {@code rope_scaling}). Scaling
 * changes only these frequencies; the rotation itself is {@link Rotary}'s.
 *
 * @param dim     rotated dims per head (even)
 * @param theta   the base ({@code rope_theta}: 10000 for LLaMA 1/2 and GPT-J, 500000 for Llama 3)
 * @param scaling null for none
 */
public record Rope(int dim, double theta, RopeScaling scaling) {

    public Rope {
        if (dim <= 0 || dim % 2 != 0) {
            throw new IllegalArgumentException("rotary dims must be even and positive, got " + dim);
        }
        if (!(theta > 0)) {
            throw new IllegalArgumentException("rotary base must be > 0, got " + theta);
        }
    }

    /** Unscaled rotary embeddings over {@code dim} dims with base {@code theta}. */
    public static Rope of(int dim, double theta) {
        return new Rope(dim, theta, null);
    }

    /** The {@code dim/2} inverse frequencies (radians per position), after scaling. */
    public double[] inverseFrequencies() {
        int half = dim / 2;
        double[] f = new double[half];
        for (int i = 0; i < half; i++) {
            f[i] = scaled(1.0 / Math.pow(theta, (2.0 * i) / dim));
        }
        return f;
    }

    private double scaled(double invFreq) {
        return switch (scaling) {
            case null -> invFreq;
            case RopeScaling.Linear l -> invFreq / l.factor();
            case RopeScaling.Llama3 s -> {
                // Wavelengths (positions per turn) well inside the original context keep their
                // frequency; those longer than it are stretched by the factor; the band between
                // blends the two linearly in (original context / wavelength).
                double wavelen = 2 * Math.PI / invFreq;
                double shortest = s.originalMaxPositions() / s.highFreqFactor();
                double longest = s.originalMaxPositions() / s.lowFreqFactor();
                if (wavelen < shortest) {
                    yield invFreq;
                }
                if (wavelen > longest) {
                    yield invFreq / s.factor();
                }
                double smooth = (s.originalMaxPositions() / wavelen - s.lowFreqFactor())
                        / (s.highFreqFactor() - s.lowFreqFactor());
                yield (1 - smooth) * invFreq / s.factor() + smooth * invFreq;
            }
        };
    }
}
