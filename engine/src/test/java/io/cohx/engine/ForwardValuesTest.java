package io.cohx.engine;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Values of ops whose results are easy to state, computed in one program. */
class ForwardValuesTest {
    static Tree<NdArray> out;

    @BeforeAll
    static void runOnce() {
        out = Run.once("forward", Tree.of("x", NdArray.of(new float[] {3, -1, 4, 1, 5, 9}, 2, 3), "ids", NdArray.of(new int[] {2, 0}, 2)), t -> {
            Tensor x = t.get("x");
            Tensor ids = t.get("ids");
            var scanned = Control.scan((c, xs) -> {
                Tensor s = c.getFirst().add(xs.getFirst());
                return new Control.Step(List.of(s), List.of(s));
            }, List.of(Constants.zeros(DType.F32, 3)), List.of(x), 2);
            var vg = Autodiff.valueAndGradWithAux(p -> {
                Tensor y = Control.stopGradient(p.get("x")).mul(p.get("x"));
                return new Autodiff.WithAux(y.sum(), Tree.of("twice", p.get("x").mul(2.0)));
            }, Tree.of("x", x));
            Tensor x64 = x.convert(DType.F64);
            return Tree.of("argmax", x.argmax(1), "onehot", Indexing.oneHot(ids, 3, DType.F32), "take", Indexing.take(x, Shapes.reshape(Shapes.slice(ids, 0, 0, 1))))
                    .with("loop", Control.forLoop(4, List.of(Constants.scalar(1, DType.S32)), (i, s) -> List.of(s.getFirst().mul(Constants.scalar(2, DType.S32)).add(i))).getFirst())
                    .with("scan_carry", scanned.carry().getFirst())
                    .with("scan_ys", scanned.ys().getFirst())
                    .with("stopgrad", vg.grad().get("x"))
                    .with("aux", vg.aux().get("twice"))
                    .with("convert_grad", Autodiff.grad(p -> p.get("x").convert(DType.F32).convert(DType.F64).mul(3.0).sum(), Tree.of("x", x64)).get("x"))
                    .with("softmax", Shapes.slice(x, 0, 0, 1).softmax(1).sum(1))
                    .with("bf16_dot", Dot.matmul(x.convert(DType.BF16), Shapes.transpose(x, 1, 0).convert(DType.BF16), DType.F32))
                    .with("bf16_grad", Autodiff.grad(p -> Dot.matmul(p.get("a"), p.get("b"), DType.F32).sum(),
                            Tree.of("a", x.convert(DType.BF16), "b", Shapes.transpose(x, 1, 0).convert(DType.BF16))).get("a"))
                    .with("iota", Shapes.iota(DType.S32, Shape.of(2, 2), 1))
                    .with("argmax_ties", Constants.of(NdArray.of(new float[] {1, 7, 7, 2, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY,
                            Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, 2, 4)).argmax(1))
                    .with("argmin_ties", Reductions.argmin(Constants.of(NdArray.of(new int[] {3, 1, 1, 5, 4, 4, 0, 0}, 2, 4)), 1))
                    .with("pad", Shapes.pad(Shapes.reshape(Shapes.slice(x, 0, 0, 1), 3), Constants.scalar(0, DType.F32), new int[] {1}, new int[] {0}, new int[] {1}));
        });
    }

    @Test
    void values() {
        assertArrayEquals(new int[] {2, 2}, out.get("argmax").toIntArray());
        assertArrayEquals(new int[] {1, 0}, out.get("argmax_ties").toIntArray(), "the first of equal maxima, also of -inf rows");
        assertArrayEquals(new int[] {1, 2}, out.get("argmin_ties").toIntArray(), "the first of equal minima");
        assertArrayEquals(new float[] {0, 0, 1, 1, 0, 0}, out.get("onehot").toFloatArray());
        assertArrayEquals(new float[] {1, 5, 9}, out.get("take").toFloatArray());
        // s = 2s + i for i = 0..3 from 1: 2, 5, 12, 27
        assertArrayEquals(new int[] {27}, out.get("loop").toIntArray());
        assertArrayEquals(new float[] {4, 4, 13}, out.get("scan_carry").toFloatArray());
        assertArrayEquals(new float[] {3, -1, 4, 4, 4, 13}, out.get("scan_ys").toFloatArray());
        // d/dx [stop(x) * x] = x (no gradient through the stopped factor)
        assertArrayEquals(new float[] {3, -1, 4, 1, 5, 9}, out.get("stopgrad").toFloatArray());
        assertArrayEquals(new float[] {6, -2, 8, 2, 10, 18}, out.get("aux").toFloatArray());
        assertArrayEquals(new double[] {3, 3, 3, 3, 3, 3}, out.get("convert_grad").toDoubleArray());
        assertArrayEquals(new float[] {1}, out.get("softmax").toFloatArray(), 1e-6f);
        assertArrayEquals(new int[] {0, 1, 0, 1}, out.get("iota").toIntArray());
        // bf16 operands accumulated in f32; the gradient comes back in the operand dtype
        assertArrayEquals(new float[] {26, 34, 34, 107}, out.get("bf16_dot").toFloatArray());
        org.junit.jupiter.api.Assertions.assertEquals(DType.BF16, out.get("bf16_grad").dtype());
        // d/da sum(a·b)[i,k] = sum_j b[k,j]; with b = x^T that is column k of x summed
        assertArrayEquals(new float[] {4, 4, 13, 4, 4, 13}, out.get("bf16_grad").toFloatArray());
        assertArrayEquals(new float[] {0, 3, 0, -1, 0, 4}, out.get("pad").toFloatArray());
    }
}
