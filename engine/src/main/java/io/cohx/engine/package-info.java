/**
 * The cohx engine: array programs written in Java, traced into a graph, differentiated in reverse
 * mode, emitted as StableHLO text and compiled and run through PJRT.
 *
 * <p>A function takes and returns {@link io.cohx.engine.Tree}s of {@link io.cohx.engine.Tensor}s
 * (dotted paths such as {@code layers.3.attention.wq}). Ops come in families, one file each, and
 * every op keeps its shape/dtype rule, its emission and its VJP together:
 * {@link io.cohx.engine.Elementwise}, {@link io.cohx.engine.Shapes}, {@link io.cohx.engine.Dot},
 * {@link io.cohx.engine.Reductions}, {@link io.cohx.engine.Indexing}, {@link io.cohx.engine.Rng},
 * {@link io.cohx.engine.Control} and {@link io.cohx.engine.Constants}. Differentiate with
 * {@link io.cohx.engine.Autodiff}; run with {@link io.cohx.engine.Jit}:
 *
 * <pre>{@code
 * Jit step = Jit.builder("sgd_step", in -> {
 *     var vg = Autodiff.valueAndGrad(p -> loss(p, in.get("x"), in.get("y")), in.subtree("params"));
 *     var params = in.subtree("params").zip(vg.grad(), (w, g) -> w.sub(g.mul(0.1)));
 *     return Tree.of("loss", vg.value()).nest("params", params);
 * }).donate("params").build(client);
 * Tree<DeviceArray> out = step.call(inputs);   // NdArray or DeviceArray inputs; outputs stay on the device
 * }</pre>
 *
 * <p>Shape errors name the op, the operand types and the calling line; set {@code COHX_DUMP_DIR}
 * to keep every compiled module.
 */
package io.cohx.engine;
