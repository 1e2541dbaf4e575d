package io.cohx.engine;

import io.cohx.engine.mesh.Mesh;
import io.cohx.engine.mesh.MeshException;
import io.cohx.engine.mesh.PartitionSpec;

import java.util.function.Supplier;

/**
 * The mesh a {@link Jit} is tracing under, and the Shardy sharding-constraint op. Traced code
 * asks for constraints through {@link Jit#shardingConstraint}; outside a mesh trace they vanish,
 * so one model function serves single-device and sharded steps alike.
 */
final class Sharding {
    private Sharding() {}

    /** Name of the {@code sdy.mesh} symbol every sharded program declares. */
    static final String MESH_NAME = "mesh";

    private static final ThreadLocal<Mesh> TRACING = new ThreadLocal<>();

    static <T> T under(Mesh mesh, Supplier<T> body) {
        Mesh prev = TRACING.get();
        TRACING.set(mesh);
        try {
            return body.get();
        } finally {
            if (prev == null) {
                TRACING.remove();
            } else {
                TRACING.set(prev);
            }
        }
    }

    static Tensor constrain(Tensor x, PartitionSpec spec) {
        Mesh mesh = TRACING.get();
        if (mesh == null) {
            return x;
        }
        try {
            spec.localDims("sharding constraint on " + x.type(), x.shape().longDims(), mesh);
        } catch (MeshException e) {
            throw new MeshException(e.getMessage() + " (at " + CallSite.find() + ")");
        }
        return Graph.current().add1(new ConstraintOp(spec), x.type(), x);
    }

    /** {@code sdy.sharding_constraint}: the value is laid out by {@code spec} at this point. */
    record ConstraintOp(PartitionSpec spec) implements Op {
        @Override
        public String name() {
            return "sharding_constraint";
        }

        @Override
        public void emit(Emitter e, Node n) {
            e.op(n, "sdy.sharding_constraint", "sharding = " + spec.sdySharding(MESH_NAME, n.types[0].shape().rank()));
        }

        /** The cotangent has the value's shape and gets the same layout (as JAX does). */
        @Override
        public Tensor[] vjp(Node n, Tensor[] cts) {
            if (cts[0] == null) {
                return new Tensor[] {null};
            }
            return new Tensor[] {Graph.current().add1(this, cts[0].type(), cts[0])};
        }
    }
}
