package io.cohx.engine;

/**
 * One primitive of the graph IR. An implementation keeps its three rules together: the shape and
 * dtype rule lives in the static factory that builds its node (in the op family's class), and
 * {@link #emit} and {@link #vjp} sit beside it.
 */
interface Op {
    /** Name used in error messages, e.g. {@code dot_general}. */
    String name();

    /** Writes the node's StableHLO line(s). */
    void emit(Emitter e, Node n);

    /**
     * Cotangents of the inputs given those of the outputs ({@code null} = zero), built as new
     * nodes in the current graph; a {@code null} entry in the result is a zero cotangent.
     */
    default Tensor[] vjp(Node n, Tensor[] cts) {
        throw new EngineException(name() + " is not differentiable; wrap its inputs in stopGradient "
                + "or keep it out of the differentiated function");
    }

    /** False for ops whose outputs carry no gradient at all (integer math, comparisons, constants). */
    default boolean differentiable() {
        return true;
    }
}
