package io.cohx.engine.mesh;

/** A mesh or sharding that cannot work (bad --mesh-dim, a dimension that does not divide); the message names the tensor, axis and sizes. */
public class MeshException extends RuntimeException {
    public MeshException(String message) {
        super(message);
    }
}
