/**
 * Arrays, ops with their shape rules, lowerings and gradients, StableHLO programs compiled and run
 * through PJRT ({@code io.cohx.engine}); device meshes and sharding ({@code io.cohx.engine.mesh});
 * optimizers and schedules ({@code io.cohx.engine.optim}); the coordination of the processes of
 * one multi-host run ({@code io.cohx.engine.dist}, which the trainer's constructor takes). Every
 * package is the engine's API: models build on it, the trainer and the benchmarks drive it.
 */
module io.cohx.engine {
    // PjrtClient, PjrtBuffer and friends appear in the engine's own signatures.
    requires transitive io.cohx.pjrt;

    exports io.cohx.engine;
    exports io.cohx.engine.mesh;
    exports io.cohx.engine.optim;
    exports io.cohx.engine.dist;
}
