package io.cohx.models;

import io.cohx.engine.Autodiff;
import io.cohx.engine.DType;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Rng;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.config.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The forgetful causal mask and dropout: the mask function itself (never hides key 0, hides a
 * per-sequence share within the ratio bounds, a function of the key), and in both models that
 * training randomness changes the loss, is the same for the same key and other for another,
 * is off in evaluation, and is recomputed identically under remat.
 */
class RandomnessTest {
    static final double FCM_MIN = 0.2;
    static final double FCM_MAX = 0.6;

    @Test
    void forgetfulMaskNeverHidesKeyZeroAndHidesAShareWithinTheRatios() {
        int b = 6;
        int s = 64;
        ModelConfig config = LlamaConfig.preset("debug");
        var train = new ForwardOptions(DType.F32, true, null, FCM_MIN, FCM_MAX, false);
        Jit jit = Jit.builder("fcm_mask", t -> {
            Tensor ids = io.cohx.engine.Constants.zeros(DType.S32, b, s);
            Tensor visible = ForwardPass.of(config, ids, new ForwardOptions(DType.F32, true, t.get("key"), FCM_MIN, FCM_MAX, false))
                    .visible(0, b, 2, s);
            return Tree.of("mask", Attention.forgetfulMask(t.get("key"), b, s, FCM_MIN, FCM_MAX).convert(DType.U8),
                    "fixed", Attention.forgetfulMask(t.get("key"), b, s, 0.5, 0.5).convert(DType.U8),
                    "visible", visible.convert(DType.U8));
        }).build(ModelRun.client());
        Tree<NdArray> one = ModelRun.call(jit, Tree.of("key", Rng.keyData(11)));
        Tree<NdArray> again = ModelRun.call(jit, Tree.of("key", Rng.keyData(11)));
        Tree<NdArray> other = ModelRun.call(jit, Tree.of("key", Rng.keyData(12)));
        jit.close();
        assertTrue(train.train());
        assertEquals(0, ModelRun.maxAbsDiff(one.get("mask"), again.get("mask")), "same key, same mask");
        assertNotEquals(0, ModelRun.maxAbsDiff(one.get("mask"), other.get("mask")), "another key, another mask");

        double sigma = Math.sqrt(0.25 / (s * (s - 1)));
        double[] shares = new double[b];
        for (int row = 0; row < b; row++) {
            int hidden = 0;
            int hiddenFixed = 0;
            int hiddenModel = 0;
            for (int q = 0; q < s; q++) {
                for (int k = 0; k < s; k++) {
                    long i = ((long) row * s + q) * s + k;
                    boolean vis = one.get("mask").get(i) != 0;
                    boolean visFixed = one.get("fixed").get(i) != 0;
                    long m0 = (((long) row * 2) * s + q) * s + k;
                    boolean model = one.get("visible").get(m0) != 0;
                    assertEquals(model, one.get("visible").get(m0 + (long) s * s) != 0, "heads share the mask");
                    if (k == 0) {
                        assertTrue(vis && visFixed && model, "key 0 hidden at row " + row + ", query " + q);
                    } else {
                        hidden += vis ? 0 : 1;
                        hiddenFixed += visFixed ? 0 : 1;
                    }
                    if (k > q) {
                        assertFalse(model, "the model's mask is causal at " + row + "," + q + "," + k);
                    } else if (k > 0) {
                        hiddenModel += model ? 0 : 1;
                    }
                }
            }
            shares[row] = hidden / (double) (s * (s - 1));
            assertTrue(shares[row] > FCM_MIN - 4 * sigma && shares[row] < FCM_MAX + 4 * sigma,
                    "row " + row + " hides " + shares[row]);
            assertEquals(0.5, hiddenFixed / (double) (s * (s - 1)), 4 * sigma, "ratio 0.5 hides half");
            double modelShare = hiddenModel / (s * (s - 1) / 2.0);
            assertTrue(modelShare > FCM_MIN - 8 * sigma && modelShare < FCM_MAX + 8 * sigma,
                    "the model's mask hides " + modelShare + " of the causal pairs in row " + row);
        }
        double spread = java.util.Arrays.stream(shares).max().orElseThrow() - java.util.Arrays.stream(shares).min().orElseThrow();
        assertTrue(spread > 10 * sigma, "each sequence draws its own ratio: shares " + java.util.Arrays.toString(shares));
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gptj", "llama3", "mistral"})
    void trainingRandomnessIsAFunctionOfTheKey(String model) {
        ModelGolden g = ModelGolden.load(model);
        CausalLm lm = g.lm();
        CausalLm dropping = CausalLm.of(g.model().config().withUpdates(
                Map.of("resid_pdrop", 0.1, "embd_pdrop", 0.1, "attn_pdrop", 0.1), "test"));
        Jit jit = Jit.builder(model + "_random", t -> {
            Tensor tokens = t.get("tokens");
            Tensor masks = t.get("masks");
            Tensor key = t.get("key");
            Tensor ids = LmLoss.shiftRight(tokens, g.bos());
            Tree<Tensor> p = t.subtree("params");
            var fcm = new ForwardOptions(DType.F32, true, key, FCM_MIN, FCM_MAX, false);
            var fcmEval = new ForwardOptions(DType.F32, false, key, FCM_MIN, FCM_MAX, false);
            var both = new ForwardOptions(DType.F32, true, key, FCM_MIN, FCM_MAX, false);
            var bothRemat = new ForwardOptions(DType.F32, true, key, FCM_MIN, FCM_MAX, true);
            var vg = Autodiff.valueAndGrad(q -> LmLoss.of(dropping.logits(q, ids, both), tokens, masks).loss(), p);
            var vr = Autodiff.valueAndGrad(q -> LmLoss.of(dropping.logits(q, ids, bothRemat), tokens, masks).loss(), p);
            Tensor gradDiff = null;
            for (String path : p.paths()) {
                Tensor d = vg.grad().get(path).sub(vr.grad().get(path)).abs().reduceMax();
                gradDiff = gradDiff == null ? d : gradDiff.max(d);
            }
            return Tree.of("eval", LmLoss.of(lm.logits(p, ids, ForwardOptions.EVAL), tokens, masks).loss(),
                            "fcm", LmLoss.of(lm.logits(p, ids, fcm), tokens, masks).loss(),
                            "fcm_eval", LmLoss.of(lm.logits(p, ids, fcmEval), tokens, masks).loss())
                    .with("dropout_eval", LmLoss.of(dropping.logits(p, ids, ForwardOptions.EVAL), tokens, masks).loss())
                    .with("both", vg.value()).with("both_remat", vr.value()).with("remat_grad_diff", gradDiff);
        }).build(ModelRun.client());
        Tree<Object> in = Tree.<Object>empty().nest("params", g.params()).with("tokens", g.tokens()).with("masks", g.masks());
        Tree<NdArray> one = ModelRun.call(jit, in.with("key", Rng.keyData(5)));
        Tree<NdArray> again = ModelRun.call(jit, in.with("key", Rng.keyData(5)));
        Tree<NdArray> other = ModelRun.call(jit, in.with("key", Rng.keyData(6)));
        jit.close();
        double eval = ModelRun.scalar(one, "eval");
        assertEquals(g.f32("loss"), eval, 1e-5);
        for (String p : new String[] {"fcm", "both"}) {
            double v = ModelRun.scalar(one, p);
            System.out.printf("{\"test\":\"randomness\",\"model\":\"%s\",\"case\":\"%s\",\"loss\":%.5f,\"eval_loss\":%.5f,\"other_key\":%.5f}%n",
                    model, p, v, eval, ModelRun.scalar(other, p));
            assertTrue(Math.abs(v - eval) > 1e-5, p + " changes the loss: " + v + " vs " + eval);
            assertEquals(v, ModelRun.scalar(again, p), 0, p + ": same key, same loss");
            assertNotEquals(v, ModelRun.scalar(other, p), p + ": another key, another loss");
        }
        assertEquals(eval, ModelRun.scalar(one, "fcm_eval"), 0, "no forgetful mask in evaluation");
        assertEquals(eval, ModelRun.scalar(one, "dropout_eval"), 0, "no dropout in evaluation");
        assertEquals(ModelRun.scalar(one, "both"), ModelRun.scalar(one, "both_remat"), 1e-6, "remat redraws the same masks");
        double gd = ModelRun.scalar(one, "remat_grad_diff");
        assertFalse(gd > 1e-6, "gradients with dropout+FCM, remat on vs off, differ by " + gd);
    }
}
