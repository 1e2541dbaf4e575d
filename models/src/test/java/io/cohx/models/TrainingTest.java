package io.cohx.models;

import io.cohx.engine.Autodiff;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Rng;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Training-side behaviour of both models on the golden configs (vocab 256, 2 layers): init is
 * the reference's and deterministic per key; the loss has a gradient for every parameter; remat
 * gives the same loss and gradients; a few SGD steps on one batch lower the loss. Two programs
 * per model: init, and one SGD step that also differentiates with remat on for comparison.
 */
class TrainingTest {
    static final double LR = 0.1;
    static final int STEPS = 6;

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gptj", "llama3"})
    void initGradientsRematAndSgd(String model) {
        ModelGolden g = ModelGolden.load(model);
        CausalLm lm = g.lm();
        double range = g.model().config() instanceof io.cohx.models.config.LlamaConfig l ? l.initializerRange()
                : ((io.cohx.models.config.GptjConfig) g.model().config()).initializerRange();

        Tree<NdArray> a;
        Tree<NdArray> b;
        Tree<NdArray> c;
        try (Jit init = Jit.builder(model + "_init", t -> lm.init(t.get("key"))).build(ModelRun.client())) {
            a = ModelRun.call(init, Tree.of("key", Rng.keyData(1)));
            b = ModelRun.call(init, Tree.of("key", Rng.keyData(1)));
            c = ModelRun.call(init, Tree.of("key", Rng.keyData(2)));
        }
        assertEquals(lm.paramTypes().paths(), a.paths());
        for (String p : a.paths()) {
            NdArray v = a.get(p);
            assertEquals(lm.paramTypes().get(p), v.type(), p);
            assertEquals(0, ModelRun.maxAbsDiff(v, b.get(p)), p + ": same key, same values");
            double[] d = v.toDoubleArray();
            if (p.endsWith(".bias")) {
                assertEquals(0, ModelRun.maxAbsDiff(v, NdArray.zeros(v.type())), p + " starts at zero");
            } else if (p.endsWith(".scale") || p.endsWith("norm.kernel") || p.equals("transformer.ln_f.kernel")) {
                assertTrue(java.util.Arrays.stream(d).allMatch(x -> x == 1), p + " starts at one");
            } else {
                double mean = java.util.Arrays.stream(d).average().orElseThrow();
                double std = Math.sqrt(java.util.Arrays.stream(d).map(x -> (x - mean) * (x - mean)).sum() / d.length);
                double se = range / Math.sqrt(d.length);
                assertTrue(Math.abs(mean) < 5 * se, p + " mean " + mean);
                assertEquals(range, std, 0.05 * range, p + " std");
                assertNotEquals(0, ModelRun.maxAbsDiff(v, c.get(p)), p + ": another key, other values");
            }
        }

        ForwardOptions plain = ForwardOptions.EVAL;
        ForwardOptions remat = new ForwardOptions(DType.F32, false, null, 0, 0, true);
        Jit step = Jit.builder(model + "_sgd", t -> {
            Tensor tokens = t.get("tokens");
            Tensor masks = t.get("masks");
            Tensor ids = LmLoss.shiftRight(tokens, g.bos());
            Tree<Tensor> params = t.subtree("params");
            var vg = Autodiff.valueAndGrad(p -> LmLoss.of(lm.logits(p, ids, plain), tokens, masks).loss(), params);
            var vr = Autodiff.valueAndGrad(p -> LmLoss.of(lm.logits(p, ids, remat), tokens, masks).loss(), params);
            Tree<Tensor> gradNorm = vg.grad().map(x -> x.square().sum().sqrt());
            Tree<Tensor> rematDiff = vg.grad().zip(vr.grad(), (x, y) -> x.sub(y).abs().reduceMax());
            return Tree.of("loss", vg.value(), "loss_remat", vr.value())
                    .nest("grad_norm", gradNorm).nest("remat_diff", rematDiff)
                    .nest("params", params.zip(vg.grad(), (w, gr) -> w.sub(gr.mul(LR))));
        }).donate("params").build(ModelRun.client());
        Tree<Object> state = Tree.<Object>empty().nest("params", a).with("tokens", g.tokens()).with("masks", g.masks());
        double first = Double.NaN;
        double last = Double.NaN;
        for (int i = 0; i < STEPS; i++) {
            Tree<DeviceArray> out = step.call(state);
            double loss = out.get("loss").toHost().get(0);
            if (i == 0) {
                first = loss;
                double rematLoss = out.get("loss_remat").toHost().get(0);
                assertEquals(loss, rematLoss, 1e-6, "loss with remat");
                double worst = 0;
                for (String p : lm.paramTypes().paths()) {
                    double norm = out.get("grad_norm." + p).toHost().get(0);
                    assertTrue(Double.isFinite(norm) && norm > 0, p + " has gradient norm " + norm);
                    worst = Math.max(worst, out.get("remat_diff." + p).toHost().get(0));
                }
                System.out.printf("{\"test\":\"remat\",\"model\":\"%s\",\"loss_diff\":%.3g,\"max_abs_grad_diff\":%.3g}%n",
                        model, Math.abs(loss - rematLoss), worst);
                assertTrue(worst <= 1e-6, "gradients with remat differ by " + worst);
                // Weights of N(0, 0.02) give nearly uniform predictions: the loss starts near ln(V). With tied
                // embeddings the head also scores each input token's own row (the residual stream still
                // holds its embedding), so it starts a little lower.
                double slack = g.model().config().tieWordEmbeddings() ? 0.25 : 0.1;
                assertEquals(Math.log(g.model().config().vocabSize()), loss, slack, "initial loss");
            }
            last = loss;
            for (String p : out.paths()) {
                if (!p.startsWith("params.")) {
                    out.get(p).close();
                }
            }
            state = state.nest("params", out.subtree("params"));
        }
        assertEquals(1, step.compileCount());
        System.out.printf("{\"test\":\"sgd\",\"model\":\"%s\",\"first_loss\":%.4f,\"loss_after_%d_steps\":%.4f}%n",
                model, first, STEPS - 1, last);
        assertTrue(last < first - 0.5, "SGD on one batch: loss " + first + " -> " + last);
        state.subtree("params").values().forEach(v -> ((DeviceArray) v).close());
        step.close();
    }
}
