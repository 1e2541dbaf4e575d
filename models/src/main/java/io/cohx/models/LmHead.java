package io.cohx.models;

import io.cohx.engine.DType;
import io.cohx.engine.Tensor;

/**
 * What a causal LM's logits are made of: the final hidden states {@code [B, S, H]} (compute
 * dtype) and the output projection {@code kernel [H, V]} (f32, cast to the compute dtype) with an
 * optional {@code bias [V]} (null: none). {@link #logits} makes them all at once; the loss can
 * instead make them a chunk of positions at a time ({@link LmLoss#of(LmHead, Tensor, Tensor, int)}),
 * so that the f32 {@code [B, S, V]} array never exists whole.
 */
public record LmHead(Tensor hidden, Tensor kernel, Tensor bias) {

    /** Logits {@code f32[..., V]} of these hidden states. */
    public Tensor logits() {
        return bias == null ? Layers.dense(hidden, kernel, DType.F32) : Layers.dense(hidden, kernel, bias, DType.F32);
    }

    /** The same head applied to other hidden states (e.g. a chunk of these). */
    public LmHead on(Tensor otherHidden) {
        return new LmHead(otherHidden, kernel, bias);
    }
}
