package io.cohx.engine;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shape of the emitted text: generic op form, one op per line, literals, regions, attributes. */
class EmissionTest {

    static String mlir(Tree<ArrayType> in, java.util.function.Function<Tree<Tensor>, Tree<Tensor>> f) {
        return Program.trace("t", in, f).mlir();
    }

    @Test
    void genericFormOneOpPerLine() {
        String m = mlir(Tree.of("a", ArrayType.of(DType.F32, 2), "b", ArrayType.of(DType.F32, 2)), t -> Tree.of("y", t.get("a").add(t.get("b"))));
        assertEquals("""
                module @t attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
                  func.func public @main(%v0: tensor<2xf32>, %v1: tensor<2xf32>) -> (tensor<2xf32>) {
                    %v2 = "stablehlo.add"(%v0, %v1) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
                    return %v2 : tensor<2xf32>
                  }
                }
                """, m);
    }

    @Test
    void literalsAndReduceRegions() {
        String m = mlir(Tree.of("x", ArrayType.of(DType.BF16, 2, 3)), t -> Tree.of("m", t.get("x").reduceMax(1), "s", t.get("x").mul(0.1)));
        assertTrue(m.contains("dense<0xFF80> : tensor<bf16>"), "bf16 -inf as hex:\n" + m);
        assertTrue(m.contains("\"stablehlo.maximum\""), m);
        assertTrue(m.contains("{dimensions = array<i64: 1>}"), m);
        // 0.1 rounded to bf16 first, printed so it parses back to exactly that value
        assertTrue(m.contains("dense<0.10009765625> : tensor<bf16>"), m);
        for (String line : m.split("\n")) {
            assertTrue(line.length() < 400, "one op per line, readable: " + line);
        }
    }

    @Test
    void argumentAndResultAttributesArePluggable() {
        Program p = Program.trace("s", Tree.of("w", ArrayType.of(DType.F32, 4)), t -> Tree.of("w", t.get("w").neg()));
        String m = p.mlir(new Program.Annotations() {
            @Override
            public String argument(String path, ArrayType type) {
                return "mhlo.sharding = \"{replicated}\"";
            }

            @Override
            public String result(String path, ArrayType type) {
                return "mhlo.sharding = \"{replicated}\"";
            }
        }, java.util.Map.of(0, 0));
        assertTrue(m.contains("%v0: tensor<4xf32> {tf.aliasing_output = 0 : i32, mhlo.sharding = \"{replicated}\"}"), m);
        assertTrue(m.contains("-> (tensor<4xf32> {mhlo.sharding = \"{replicated}\"})"), m);
    }

    @Test
    void checkpointRecomputesBehindABarrier() {
        String m = mlir(Tree.of("x", ArrayType.of(DType.F32, 3)), t -> {
            var vg = Autodiff.valueAndGrad(p -> Control.checkpoint(xs -> List.of(xs.getFirst().sin().exp()), List.of(p.get("x"))).getFirst().sum(), t);
            return vg.grad().with("loss", vg.value());
        });
        assertTrue(m.contains("\"stablehlo.optimization_barrier\""), m);
        assertEquals(2, m.split("\"stablehlo.sine\"", -1).length - 1, "forward sine emitted again in the backward:\n" + m);
    }

    @Test
    void whileLoopHasTwoRegions() {
        String m = mlir(Tree.of("x", ArrayType.of(DType.F32, 2)),
                t -> Tree.of("y", Control.forLoop(3, List.of(t.get("x")), (i, s) -> List.of(s.getFirst().mul(2.0))).getFirst()));
        assertTrue(m.contains("\"stablehlo.while\""), m);
        assertTrue(m.contains("\"stablehlo.return\""), m);
        assertTrue(m.contains("comparison_direction = #stablehlo<comparison_direction LT>, compare_type = #stablehlo<comparison_type SIGNED>"), m);
    }
}
