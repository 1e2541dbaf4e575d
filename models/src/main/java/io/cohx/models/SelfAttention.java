package io.cohx.models;

import io.cohx.engine.Tensor;

/**
 * Where a block's attention gets its positions and keys from, so LLaMA and GPT-J write their
 * blocks once for both uses: {@link #full} attends within the sequence being processed (training,
 * scoring); a {@link KvCache} writes the new keys and values into a per-layer cache on the device
 * and attends over everything cached so far (generation).
 */
public interface SelfAttention {

    /** Rotates q or k {@code [B, S, H, D]} to their positions (the first {@code rotaryDim} dims of each head). */
    Tensor rotate(Tensor x);

    /** The attention output {@code [B, S, H, D]} of block {@code layer} for the already-rotated q, k and v. */
    Tensor attend(int layer, Tensor q, Tensor k, Tensor v);

    /**
     * Causal attention within the sequence: positions 0..S-1 (or restarting with each packed
     * example, see {@link ForwardOptions#segmentIds()}), the pass's masks and attention dropout.
     */
    static SelfAttention full(ForwardPass pass, int seq, Rope rope, double attnDropout) {
        Rotary rotary = pass.positions() == null ? Rotary.of(seq, rope) : Rotary.at(pass.positions(), seq, rope);
        return new SelfAttention() {
            @Override
            public Tensor rotate(Tensor x) {
                return rotary.apply(x);
            }

            @Override
            public Tensor attend(int layer, Tensor q, Tensor k, Tensor v) {
                return Attention.attend(q, k, v, pass.visible(layer, q.dim(0), q.dim(2), q.dim(1)), attnDropout,
                        pass.attentionDropoutKey(attnDropout, layer));
            }
        };
    }
}
