package io.cohx.models;

import io.cohx.engine.DType;
import io.cohx.engine.Tensor;

/**
 * How one forward pass runs.
 *
 * @param computeDtype f32, bf16 or f16 for activations and matmuls (params stay f32 and are cast)
 * @param train        whether dropout and the forgetful causal mask apply
 * @param rngKey       engine RNG key for dropout / FCM (null when neither is on)
 * @param fcmMinRatio  forgetful causal mask: per sequence a ratio r ~ U[min, max] of (query, key)
 *                     pairs is hidden, never key 0; 0/0 = off
 * @param fcmMaxRatio  see {@code fcmMinRatio}
 * @param remat        rematerialize each block's forward in the backward (gradient checkpointing)
 * @param segmentIds   null, or integers {@code [B, S]} like the input ids numbering the examples
 *                     packed into each row (contiguous runs of one value): a token then attends
 *                     only within its own example, and positions restart at 0 where each begins,
 *                     so every example computes as if it were alone in the row
 */
public record ForwardOptions(DType computeDtype, boolean train, Tensor rngKey, double fcmMinRatio, double fcmMaxRatio,
                             boolean remat, Tensor segmentIds) {

    /** f32, inference, nothing random, no remat. */
    public static final ForwardOptions EVAL = new ForwardOptions(DType.F32, false, null, 0, 0, false);

    /** Options without segment ids (packed examples attend to each other, as in the reference trainer). */
    public ForwardOptions(DType computeDtype, boolean train, Tensor rngKey, double fcmMinRatio, double fcmMaxRatio,
                          boolean remat) {
        this(computeDtype, train, rngKey, fcmMinRatio, fcmMaxRatio, remat, null);
    }

    public ForwardOptions withDtype(DType d) {
        return new ForwardOptions(d, train, rngKey, fcmMinRatio, fcmMaxRatio, remat, segmentIds);
    }

    /** The same options with {@code ids} as segment ids (null: none). */
    public ForwardOptions withSegmentIds(Tensor ids) {
        return new ForwardOptions(computeDtype, train, rngKey, fcmMinRatio, fcmMaxRatio, remat, ids);
    }
}
