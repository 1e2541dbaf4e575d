package io.cohx.engine;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What a rematerialised function ({@link Control#checkpoint}) keeps from its forward pass for the
 * backward pass; everything else is recomputed there. The names are those of
 * {@code jax.checkpoint_policies}, which the original trainer's {@code remat_block} takes:
 * <ul>
 *   <li>{@link #EVERYTHING_SAVEABLE}: keep everything (no rematerialisation at all);</li>
 *   <li>{@link #NOTHING_SAVEABLE}: keep only the inputs, recompute the whole forward (least memory);</li>
 *   <li>{@link #DOTS_SAVEABLE}: keep the result of every matrix product, recompute the cheap
 *       elementwise work between them (norms, activations, softmax);</li>
 *   <li>{@link #DOTS_WITH_NO_BATCH_DIMS_SAVEABLE}: keep the products without batch dimensions
 *       (the projections and MLP, {@code [tokens, features]}) but recompute those with batch
 *       dimensions (attention scores and their weighted sums, which grow with the square of the
 *       sequence length).</li>
 * </ul>
 */
public enum RematPolicy {
    EVERYTHING_SAVEABLE,
    NOTHING_SAVEABLE,
    DOTS_SAVEABLE,
    DOTS_WITH_NO_BATCH_DIMS_SAVEABLE;

    /** Every policy's name as configs spell it ({@code nothing_saveable}, ...). */
    public static final List<String> NAMES = Arrays.stream(values()).map(RematPolicy::configName).toList();

    /** The name as configs spell it, e.g. {@code dots_saveable}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The policy named {@code name} (as {@link #configName}); an error listing the names otherwise. */
    public static RematPolicy of(String name) {
        for (RematPolicy p : values()) {
            if (p.configName().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("remat policy '" + name + "' is not one of " + NAMES);
    }

    /** Whether a block under this policy is rematerialised at all. */
    public boolean remats() {
        return this != EVERYTHING_SAVEABLE;
    }

    /** Whether the forward value of {@code n} (a node traced directly in the checkpointed function) is kept. */
    boolean saves(Node n) {
        return switch (this) {
            case EVERYTHING_SAVEABLE -> true;
            case NOTHING_SAVEABLE -> false;
            case DOTS_SAVEABLE -> n.op instanceof Dot.DotGeneralOp;
            case DOTS_WITH_NO_BATCH_DIMS_SAVEABLE -> n.op instanceof Dot.DotGeneralOp d && d.d().lhsBatch().length == 0;
        };
    }
}
