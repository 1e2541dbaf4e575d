package io.cohx.engine;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A two-layer MLP written with the engine learns a smooth synthetic regression by plain SGD; the
 * train step donates the parameters, so they are updated in place on the device.
 */
class MlpTrainingTest {
    static final int IN = 4;
    static final int HIDDEN = 32;
    static final int BATCH = 64;

    static Tensor mlp(Tree<Tensor> p, Tensor x) {
        Tensor h = x.matmul(p.get("w1")).add(p.get("b1")).tanh();
        return h.matmul(p.get("w2")).add(p.get("b2"));
    }

    static Tensor loss(Tree<Tensor> p, Tensor x, Tensor y) {
        return mlp(p, x).sub(y).square().mean();
    }

    @Test
    void sgdLowersTheLossHundredfold() {
        Random r = new Random(7);
        Tree<NdArray> params = Tree.of(
                "w1", GradCheck.uniform(r, -0.5, 0.5, IN, HIDDEN).convert(DType.F32),
                "b1", NdArray.zeros(DType.F32, HIDDEN),
                "w2", GradCheck.uniform(r, -0.5, 0.5, HIDDEN, 1).convert(DType.F32)).with(
                "b2", NdArray.zeros(DType.F32, 1));
        NdArray x = GradCheck.uniform(r, -1, 1, BATCH, IN).convert(DType.F32);
        NdArray y = NdArray.zeros(DType.F32, BATCH, 1);
        for (int i = 0; i < BATCH; i++) {
            // target: a smooth function of the inputs, offset so the initial loss is not tiny
            double v = Math.sin(2 * x.get(i * IN)) + 0.5 * x.get(i * IN + 1) * x.get(i * IN + 2) + 0.3 * x.get(i * IN + 3) + 1;
            y.set(i, v);
        }
        double lr = 0.2;
        Jit step = Jit.builder("mlp_step", in -> {
            var vg = Autodiff.valueAndGrad(p -> loss(p, in.get("x"), in.get("y")), in.subtree("params"));
            Tree<Tensor> updated = in.subtree("params").zip(vg.grad(), (w, g) -> w.sub(g.mul(lr)));
            return Tree.of("loss", vg.value()).nest("params", updated);
        }).donate("params").build(Run.client());
        Tree<Object> state = Tree.<Object>empty().nest("params", params).with("x", x).with("y", y);
        double first = Double.NaN;
        double last = Double.NaN;
        for (int i = 0; i < 2000; i++) {
            Tree<DeviceArray> out = step.call(state);
            if (i == 0) {
                first = out.get("loss").toHost().get(0);
            }
            if (i == 1999) {
                last = out.get("loss").toHost().get(0);
            }
            out.get("loss").close();
            state = state.nest("params", out.subtree("params"));
        }
        assertEquals(1, step.compileCount(), "host and device parameters have the same types: one compile");
        assertTrue(last < first / 100, "loss went from " + first + " to " + last);
        state.subtree("params").values().forEach(v -> ((DeviceArray) v).close());
        step.close();
    }
}
