package io.cohx.engine;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Remat policies: every policy gives the gradient of the plain function; what the backward pass
 * recomputes follows the policy (counted in the emitted program): nothing_saveable re-emits every
 * product, dots_saveable none, dots_with_no_batch_dims_saveable only the batched one.
 */
class RematPolicyTest {

    /** Two projections (no batch dims), a batched product and elementwise work between them. */
    static Tensor block(Tensor x, Tensor w1, Tensor w2) {
        Tensor h = x.matmul(w1).tanh();                                         // [2, 3, 4]
        Tensor s = Dot.einsum("bqd,bkd->bqk", h, h).softmax(-1);               // batched
        return Dot.einsum("bqk,bkd->bqd", s, h).matmul(w2).mul(x).sin();        // batched, then a projection
    }

    static Tree<Tensor> step(Tree<Tensor> t, RematPolicy policy) {
        var vg = Autodiff.valueAndGrad(p -> Control.checkpoint(xs -> List.of(block(xs.get(0), xs.get(1), xs.get(2))),
                List.of(p.get("x"), p.get("w1"), p.get("w2")), policy).getFirst().sum(), t);
        return vg.grad().with("loss", vg.value());
    }

    static Tree<ArrayType> types() {
        return Tree.of("x", ArrayType.of(DType.F32, 2, 3, 4), "w1", ArrayType.of(DType.F32, 4, 4), "w2", ArrayType.of(DType.F32, 4, 4));
    }

    static int dots(String mlir) {
        return mlir.split("\"stablehlo.dot_general\"", -1).length - 1;
    }

    @Test
    void everyPolicyGivesThePlainGradient() {
        Random r = new Random(3);
        Tree<NdArray> in = types().map(t -> {
            NdArray a = NdArray.zeros(t);
            for (long i = 0; i < a.size(); i++) {
                a.set(i, r.nextGaussian());
            }
            return a;
        });
        Tree<NdArray> out = Run.once("remat_policies", in, t -> {
            Tree<Tensor> all = Tree.empty();
            for (RematPolicy p : RematPolicy.values()) {
                all = all.nest(p.configName(), step(t, p));
            }
            return all;
        });
        String base = RematPolicy.EVERYTHING_SAVEABLE.configName();
        for (RematPolicy p : RematPolicy.values()) {
            for (String path : List.of("loss", "x", "w1", "w2")) {
                NdArray want = out.get(base + "." + path);
                NdArray got = out.get(p.configName() + "." + path);
                for (long i = 0; i < want.size(); i++) {
                    assertEquals(want.get(i), got.get(i), 1e-6, p + " " + path + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void theBackwardPassRecomputesWhatThePolicyDoesNotSave() {
        int plain = dots(Program.trace("t", types(), t -> step(t, RematPolicy.EVERYTHING_SAVEABLE)).mlir());
        int nothing = dots(Program.trace("t", types(), t -> step(t, RematPolicy.NOTHING_SAVEABLE)).mlir());
        int dots = dots(Program.trace("t", types(), t -> step(t, RematPolicy.DOTS_SAVEABLE)).mlir());
        int noBatch = dots(Program.trace("t", types(), t -> step(t, RematPolicy.DOTS_WITH_NO_BATCH_DIMS_SAVEABLE)).mlir());
        // 4 forward products; nothing_saveable runs them again before the backward's 8.
        assertEquals(plain + 4, nothing, "nothing_saveable recomputes every product");
        assertEquals(plain, dots, "dots_saveable recomputes no product");
        assertEquals(plain + 2, noBatch, "dots_with_no_batch_dims_saveable recomputes the two batched products");
        assertTrue(plain >= 12, "forward and backward products: " + plain);
    }

    @Test
    void namesAreJaxs() {
        assertEquals(List.of("everything_saveable", "nothing_saveable", "dots_saveable", "dots_with_no_batch_dims_saveable"),
                RematPolicy.NAMES);
        assertEquals(RematPolicy.DOTS_SAVEABLE, RematPolicy.of("dots_saveable"));
        var e = assertThrows(IllegalArgumentException.class, () -> RematPolicy.of("dots"));
        assertTrue(e.getMessage().contains("dots_with_no_batch_dims_saveable"), e.getMessage());
    }
}
