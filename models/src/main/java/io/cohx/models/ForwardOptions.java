package io.cohx.models;

import io.cohx.engine.DType;
import io.cohx.engine.RematPolicy;
import io.cohx.engine.Tensor;

/**
 * How one forward pass runs.
 *
 * @param computeDtype   f32, bf16 or f16 for activations and matmuls (params stay f32 and are cast)
 * @param train          whether dropout and the forgetful causal mask apply
 * @param rngKey         engine RNG key for dropout / FCM (null when neither is on)
 * @param fcmMinRatio    forgetful causal mask: per sequence a ratio r ~ U[min, max] of (query, key)
 *                       pairs is hidden, never key 0; 0/0 = off
 * @param fcmMaxRatio    see {@code fcmMinRatio}
 * @param remat          what each block keeps for the backward pass; the rest is recomputed there
 *                       ({@link RematPolicy#EVERYTHING_SAVEABLE}: no rematerialisation)
 * @param attentionChunk queries per attention chunk: the scores of one chunk of queries against
 *                       all keys exist at a time instead of the whole {@code [B, H, S, S]} (0 = whole)
 * @param segmentIds     null, or integers {@code [B, S]} like the input ids numbering the examples
 *                       packed into each row (contiguous runs of one value): a token then attends
 *                       only within its own example, and positions restart at 0 where each begins,
 *                       so every example computes as if it were alone in the row
 */
public record ForwardOptions(DType computeDtype, boolean train, Tensor rngKey, double fcmMinRatio, double fcmMaxRatio,
                             RematPolicy remat, int attentionChunk, Tensor segmentIds) {

    /** f32, inference, nothing random, no remat, whole attention. */
    public static final ForwardOptions EVAL = new ForwardOptions(DType.F32, false, null, 0, 0, false);

    public ForwardOptions {
        if (remat == null) {
            throw new IllegalArgumentException("ForwardOptions.remat: give a RematPolicy (EVERYTHING_SAVEABLE for none)");
        }
        if (attentionChunk < 0) {
            throw new IllegalArgumentException("attention chunk must be >= 0 (0: whole), got " + attentionChunk);
        }
    }

    /** No segment ids. */
    public ForwardOptions(DType computeDtype, boolean train, Tensor rngKey, double fcmMinRatio, double fcmMaxRatio, RematPolicy remat,
                          int attentionChunk) {
        this(computeDtype, train, rngKey, fcmMinRatio, fcmMaxRatio, remat, attentionChunk, null);
    }

    /** Whole attention; {@code remat} true recomputes each block entirely ({@link RematPolicy#NOTHING_SAVEABLE}). */
    public ForwardOptions(DType computeDtype, boolean train, Tensor rngKey, double fcmMinRatio, double fcmMaxRatio, boolean remat,
                          Tensor segmentIds) {
        this(computeDtype, train, rngKey, fcmMinRatio, fcmMaxRatio, remat ? RematPolicy.NOTHING_SAVEABLE : RematPolicy.EVERYTHING_SAVEABLE,
                0, segmentIds);
    }

    /** Whole attention, no segment ids (packed examples attend to each other, as in the reference trainer). */
    public ForwardOptions(DType computeDtype, boolean train, Tensor rngKey, double fcmMinRatio, double fcmMaxRatio, boolean remat) {
        this(computeDtype, train, rngKey, fcmMinRatio, fcmMaxRatio, remat, null);
    }

    public ForwardOptions withDtype(DType d) {
        return new ForwardOptions(d, train, rngKey, fcmMinRatio, fcmMaxRatio, remat, attentionChunk, segmentIds);
    }

    public ForwardOptions withRemat(RematPolicy policy) {
        return new ForwardOptions(computeDtype, train, rngKey, fcmMinRatio, fcmMaxRatio, policy, attentionChunk, segmentIds);
    }

    public ForwardOptions withAttentionChunk(int queries) {
        return new ForwardOptions(computeDtype, train, rngKey, fcmMinRatio, fcmMaxRatio, remat, queries, segmentIds);
    }

    /** The same options with {@code ids} as segment ids (null: none). */
    public ForwardOptions withSegmentIds(Tensor ids) {
        return new ForwardOptions(computeDtype, train, rngKey, fcmMinRatio, fcmMaxRatio, remat, attentionChunk, ids);
    }
}
