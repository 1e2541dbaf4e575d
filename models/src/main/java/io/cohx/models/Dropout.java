package io.cohx.models;

import io.cohx.engine.Constants;
import io.cohx.engine.Rng;
import io.cohx.engine.Tensor;

/**
 * Inverted dropout: each element is zeroed with probability {@code rate} and the survivors are
 * scaled by {@code 1 / (1 - rate)}, so the expected value is unchanged and evaluation needs no
 * rescaling. The pattern is a pure function of the key (recomputed identically under remat).
 */
public final class Dropout {
    private Dropout() {}

    /** {@code x} with dropout at {@code rate} drawn from {@code key}; {@code x} itself when rate is 0. */
    public static Tensor apply(Tensor x, double rate, Tensor key) {
        if (rate == 0) {
            return x;
        }
        if (!(rate > 0 && rate < 1)) {
            throw new IllegalArgumentException("dropout rate must be in [0, 1), got " + rate);
        }
        Tensor keep = Rng.bernoulli(key, 1 - rate, x.shape());
        return keep.select(x.mul(1 / (1 - rate)), Constants.scalar(0, x.dtype()));
    }
}
