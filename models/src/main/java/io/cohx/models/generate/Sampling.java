package io.cohx.models.generate;

/**
 * How the next token is picked: {@code temperature} 0 is greedy (argmax); otherwise logits are
 * divided by the temperature, cut to the {@code topK} most likely tokens (0 = no cut) and to the
 * smallest set whose probability reaches {@code topP} (1 = no cut), and a token is drawn with the
 * random stream of {@code seed}.
 */
public record Sampling(double temperature, int topK, double topP, long seed) {

    /** Argmax decoding. */
    public static final Sampling GREEDY = new Sampling(0, 0, 1, 0);

    public Sampling {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0 (0 = off), got " + topK);
        }
    }

    public boolean greedy() {
        return temperature == 0;
    }
}
