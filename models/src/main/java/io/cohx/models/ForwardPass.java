package io.cohx.models;

import io.cohx.engine.Control;
import io.cohx.engine.DType;
import io.cohx.engine.Rng;
import io.cohx.engine.Shape;
import io.cohx.engine.Shapes;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.models.config.ModelConfig;

import java.util.function.BiFunction;

/**
 * What one forward pass of a model needs besides its parameters, derived once from
 * {@link ForwardOptions}: the compute dtype, the random streams of dropout and the forgetful
 * causal mask (each site and layer gets its own key folded from the options' key, so the same key
 * gives the same pass), whether blocks are rematerialized in the backward pass, and, with segment
 * ids, the block-diagonal mask and per-example positions of packed rows.
 */
public final class ForwardPass {
    private final ForwardOptions options;
    private final boolean fcm;
    /** With segment ids: {@code pred[B, 1, S, S]}, query and key in the same example; else null. */
    private final Tensor sameSegment;
    /** With segment ids: {@code s32[B, S]}, each token's position within its example; else null. */
    private final Tensor positions;

    private ForwardPass(ForwardOptions options, boolean fcm, Tensor segmentIds) {
        this.options = options;
        this.fcm = fcm;
        if (segmentIds == null) {
            sameSegment = null;
            positions = null;
        } else {
            int b = segmentIds.dim(0);
            int s = segmentIds.dim(1);
            Tensor ids = segmentIds.convert(DType.S32);
            Tensor same = ids.reshape(b, s, 1).eq(ids.reshape(b, 1, s));                        // [B, S(q), S(k)]
            Tensor before = Shapes.iota(DType.S32, Shape.of(1, s, s), 1).gt(Shapes.iota(DType.S32, Shape.of(1, s, s), 2));
            // Segments are contiguous, so a token's position is the number of earlier tokens of its example.
            positions = same.and(before).convert(DType.S32).sum(2);
            sameSegment = same.reshape(b, 1, s, s);
        }
    }

    /**
     * The pass of {@code config}'s model over {@code inputIds} for {@code options}, given the
     * model's dropout rates; an error for ids of the wrong type or length, or if training needs
     * randomness (dropout or FCM) but no key was given.
     */
    public static ForwardPass of(ModelConfig config, Tensor inputIds, ForwardOptions options, double... dropoutRates) {
        if (inputIds.rank() != 2 || !inputIds.dtype().isInteger()) {
            throw new IllegalArgumentException(config.modelType() + ": input ids must be integers [batch, seq], got "
                    + inputIds.type());
        }
        if (inputIds.dim(1) > config.maxPositions()) {
            throw new IllegalArgumentException(config.modelType() + ": sequence length " + inputIds.dim(1)
                    + " exceeds the model's " + config.maxPositions() + " positions; use shorter sequences");
        }
        DType dt = options.computeDtype();
        if (dt != DType.F32 && dt != DType.BF16 && dt != DType.F16) {
            throw new IllegalArgumentException("compute dtype must be f32, bf16 or f16, got " + dt);
        }
        boolean fcm = options.train() && options.fcmMaxRatio() > 0;
        if (fcm && !(options.fcmMinRatio() >= 0 && options.fcmMinRatio() <= options.fcmMaxRatio()
                && options.fcmMaxRatio() <= 1)) {
            throw new IllegalArgumentException("forgetful causal mask needs 0 <= fcm_min_ratio <= fcm_max_ratio <= 1, got "
                    + options.fcmMinRatio() + " and " + options.fcmMaxRatio());
        }
        boolean dropout = false;
        for (double r : dropoutRates) {
            dropout |= r > 0;
        }
        if (options.train() && (fcm || dropout) && options.rngKey() == null) {
            throw new IllegalArgumentException("a training forward pass with " + (fcm ? "the forgetful causal mask" : "dropout")
                    + " needs ForwardOptions.rngKey (a u32[2] engine key)");
        }
        Tensor seg = options.segmentIds();
        if (seg != null && (!seg.dtype().isInteger() || !seg.type().shape().equals(inputIds.type().shape()))) {
            throw new IllegalArgumentException(config.modelType() + ": segment ids must be integers shaped like the input ids "
                    + inputIds.type() + ", got " + seg.type());
        }
        return new ForwardPass(options, fcm, seg);
    }

    /** Each token's position within its example ({@code s32[B, S]}), or null without segment ids (positions 0..S-1). */
    public Tensor positions() {
        return positions;
    }

    public DType dtype() {
        return options.computeDtype();
    }

    /**
     * The key of random site {@code site} in block {@code layer} (-1 outside blocks), folded in
     * one step: XLA's CPU compiler fuses the scalar key derivation into every kernel that uses the
     * random bits, and chains of four threefry hashes (fold, fold, fold, bits) took it minutes.
     */
    Tensor key(String site, int layer) {
        int code = switch (site) {
            case "embd" -> 1;
            case "attn_weights" -> 2;
            case "attn_out" -> 3;
            case "mlp_out" -> 4;
            case "fcm" -> 5;
            default -> throw new IllegalArgumentException("unknown random site " + site);
        };
        return Rng.foldIn(options.rngKey(), ((long) code << 24) | (layer + 1L));
    }

    /** Dropout at {@code rate} in training, the identity otherwise. */
    public Tensor dropout(Tensor x, double rate, String site, int layer) {
        return options.train() && rate > 0 ? Dropout.apply(x, rate, key(site, layer)) : x;
    }

    /** The key for attention-weight dropout in {@code layer}, or null when there is none. */
    public Tensor attentionDropoutKey(double rate, int layer) {
        return options.train() && rate > 0 ? key("attn_weights", layer) : null;
    }

    /**
     * Which keys each query sees in {@code layer}: causal ({@code pred[1, 1, S, S]}), within the
     * query's own example when there are segment ids ({@code pred[B, 1, S, S]}), and in training
     * the forgetful mask too ({@code pred[B, heads, S, S]}, one draw shared by the heads; it never
     * hides the first key of an example, so every query keeps a key of its own example).
     */
    public Tensor visible(int layer, int batch, int heads, int seq) {
        Tensor causal = Attention.causalMask(seq);
        if (sameSegment != null) {
            causal = causal.and(sameSegment);
        }
        if (!fcm) {
            return causal;
        }
        Tensor forget = Attention.forgetfulMask(key("fcm", layer), batch, seq, options.fcmMinRatio(), options.fcmMaxRatio());
        if (positions != null) {
            forget = forget.or(positions.eq(0).reshape(batch, 1, 1, seq));
        }
        return Attention.perHead(causal.and(forget), heads);
    }

    /**
     * {@code block(x, params)}, rematerialized in the backward pass when the options ask for it
     * (the block's activations are then not kept; its random masks are recomputed from their keys).
     */
    public Tensor block(Tensor x, Tree<Tensor> params, BiFunction<Tensor, Tree<Tensor>, Tensor> block) {
        if (!options.remat()) {
            return block.apply(x, params);
        }
        Tree<Tensor> in = Tree.of("x", x).nest("p", params);
        return Control.checkpoint(t -> Tree.of("x", block.apply(t.get("x"), t.subtree("p"))), in).get("x");
    }
}
