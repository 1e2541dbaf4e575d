package io.cohx.engine.optim;

import io.cohx.engine.ArrayType;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;

/**
 * An optimizer written with engine ops, so its update compiles into the train step. The state is
 * a tree of arrays (moments, counters) that lives on the device next to the parameters.
 */
public interface Optimizer {

    /** What one update returns: new parameters, new state, and the gradients' global norm before clipping. */
    record Update(Tree<Tensor> params, Tree<Tensor> state, Tensor gradNorm) {}

    /** The state's paths and types for parameters of {@code types} (nothing is allocated: what a dry run sizes). */
    Tree<ArrayType> stateTypes(Tree<ArrayType> types);

    /** Zero state for parameters of {@code types}, as host arrays. */
    default Tree<NdArray> init(Tree<ArrayType> types) {
        return stateTypes(types).map(NdArray::zeros);
    }

    /** One update of {@code params} by {@code grads} at learning rate {@code lr} (an f32 scalar from the host schedule). */
    Update apply(Tree<Tensor> params, Tree<Tensor> grads, Tree<Tensor> state, Tensor lr);
}
