package io.cohx.models;

import io.cohx.engine.ArrayType;
import io.cohx.engine.Constants;
import io.cohx.engine.DType;
import io.cohx.engine.Rng;
import io.cohx.engine.Shape;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.models.params.ParamSpec;
import io.cohx.models.params.ParamTree;

/**
 * Fresh parameters as the reference initializes them: weights and embeddings
 * {@code normal(0, initializer_range)}, norm scales one, biases zero. Each parameter draws from
 * the key folded with its path's hash, so a parameter's values depend only on the key and its
 * path (not on how many layers come before it or on the device layout).
 */
public final class ParamInit {
    private ParamInit() {}

    /** What a parameter starts as. */
    public enum Kind { NORMAL, ONES, ZEROS }

    /** Parameter types of {@code tree} (all f32), in canonical order. */
    public static Tree<ArrayType> types(ParamTree tree) {
        Tree<ArrayType> t = Tree.empty();
        for (ParamSpec p : tree.params()) {
            t = t.with(p.path(), new ArrayType(DType.F32, Shape.of(p.shape())));
        }
        return t;
    }

    /** Traced initial values of {@code types}, each drawn as {@code kind} says. */
    public static Tree<Tensor> init(Tree<ArrayType> types, Tensor key, double initializerRange,
                                    java.util.function.Function<String, Kind> kind) {
        return types.mapWithPath((path, t) -> switch (kind.apply(path)) {
            case ONES -> Constants.full(1, t.dtype(), t.shape());
            case ZEROS -> Constants.full(0, t.dtype(), t.shape());
            case NORMAL -> Rng.normal(Rng.foldIn(key, path.hashCode()), t.dtype(), t.shape()).mul(initializerRange);
        });
    }
}
