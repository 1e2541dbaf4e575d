package io.cohx.models;

import io.cohx.engine.Autodiff;
import io.cohx.engine.DType;
import io.cohx.engine.Indexing;
import io.cohx.engine.NdArray;
import io.cohx.engine.RematPolicy;
import io.cohx.engine.Rng;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The memory-lean ways of computing the training loss give the same loss, accuracy and gradients
 * (to 1e-6 in f32: absolute for loss and accuracy, relative to each gradient tensor's largest
 * entry where that exceeds 1, since f32 itself resolves only ~1.2e-7 of a value) as the straightforward one, on the golden LLaMA (untied head) and GPT-J (head
 * with a bias), 3 rows of 16 tokens with masked prompts and padding: the loss made 4 positions at
 * a time, attention 4 queries at a time (with the forgetful causal mask too), and every remat
 * policy. The reference is written here the plain way: the whole f32 logits, log-softmax, the
 * target's log-probability picked with a gather.
 */
class MemoryLeanTest {
    static final double TOL = 1e-6;

    /** The loss as COH_SPEC words it, without the engine's shortcuts: whole logits, log_softmax, gather. */
    static Tensor[] reference(Tensor logits, Tensor targets, Tensor masks) {
        Tensor lp = logits.logSoftmax(2);
        Tensor tokenLp = Indexing.takeAlongAxis(lp, targets.expandDims(2), 2).squeeze(2);
        Tensor denom = masks.sum(1).max(1e-10);
        Tensor loss = tokenLp.neg().mul(masks).sum(1).div(denom).mean();
        Tensor hit = logits.argmax(2).eq(targets).convert(DType.F32);
        return new Tensor[] {loss, hit.mul(masks).sum(1).div(denom).mean()};
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gptj"})
    void chunkedLossChunkedAttentionAndRematPoliciesMatchThePlainLoss(String model) {
        ModelGolden g = ModelGolden.load(model);
        CausalLm lm = g.lm();
        Map<String, Function<Tree<Tensor>, Tensor[]>> variants = new LinkedHashMap<>();
        ForwardOptions plain = ForwardOptions.EVAL;
        variants.put("reference", in -> reference(lm.logits(in.subtree("params"), in.get("ids"), plain), in.get("tokens"), in.get("masks")));
        variants.put("whole", in -> result(LmLoss.of(lm.head(in.subtree("params"), in.get("ids"), plain), in.get("tokens"), in.get("masks"), 0)));
        variants.put("loss_chunk_4", in -> result(LmLoss.of(lm.head(in.subtree("params"), in.get("ids"), plain), in.get("tokens"),
                in.get("masks"), 4)));
        variants.put("attention_chunk_4", in -> result(LmLoss.of(lm.head(in.subtree("params"), in.get("ids"), plain.withAttentionChunk(4)),
                in.get("tokens"), in.get("masks"), 8)));
        for (RematPolicy p : RematPolicy.values()) {
            variants.put("remat_" + p.configName(), in -> result(LmLoss.of(lm.head(in.subtree("params"), in.get("ids"),
                    plain.withRemat(p).withAttentionChunk(8)), in.get("tokens"), in.get("masks"), 4)));
        }
        // Training with the forgetful causal mask: the same key draws the same mask, chunked or not.
        variants.put("fcm", in -> result(LmLoss.of(lm.head(in.subtree("params"), in.get("ids"),
                new ForwardOptions(DType.F32, true, Rng.key(5), 0.2, 0.6, false)), in.get("tokens"), in.get("masks"), 0)));
        variants.put("fcm_chunked", in -> result(LmLoss.of(lm.head(in.subtree("params"), in.get("ids"),
                new ForwardOptions(DType.F32, true, Rng.key(5), 0.2, 0.6, RematPolicy.DOTS_SAVEABLE, 4)), in.get("tokens"), in.get("masks"), 2)));

        Tree<Object> inputs = Tree.<Object>empty().nest("params", g.model().params()).with("ids", g.inputIds())
                .with("tokens", g.tokens()).with("masks", g.masks());
        Tree<NdArray> out = ModelRun.once(model + "_memory_lean", inputs, in -> {
            Tree<Tensor> all = Tree.empty();
            for (var v : variants.entrySet()) {
                var vg = Autodiff.valueAndGradWithAux(p -> {
                    Tree<Tensor> at = Tree.<Tensor>empty().nest("params", p).with("ids", in.get("ids"))
                            .with("tokens", in.get("tokens")).with("masks", in.get("masks"));
                    Tensor[] r = v.getValue().apply(at);
                    return new Autodiff.WithAux(r[0], Tree.of("accuracy", r[1]));
                }, in.subtree("params"));
                all = all.nest(v.getKey(), vg.grad().with("loss", vg.value()).with("accuracy", vg.aux().get("accuracy")));
            }
            return all;
        });
        double lossRef = ModelRun.scalar(out, "reference.loss");
        assertEquals(g.json().get("f32").get("loss").asDouble(), lossRef, 1e-5, "the reference formula gives the golden loss");
        for (String v : variants.keySet()) {
            String base = v.startsWith("fcm") ? "fcm" : "reference";
            double worst = 0;
            for (String p : lm.paramTypes().paths()) {
                NdArray want = out.get(base + "." + p);
                double scale = 1;
                for (long i = 0; i < want.size(); i++) {
                    scale = Math.max(scale, Math.abs(want.get(i)));
                }
                worst = Math.max(worst, ModelRun.maxAbsDiff(want, out.get(v + "." + p)) / scale);
            }
            double dl = Math.abs(ModelRun.scalar(out, base + ".loss") - ModelRun.scalar(out, v + ".loss"));
            double da = Math.abs(ModelRun.scalar(out, base + ".accuracy") - ModelRun.scalar(out, v + ".accuracy"));
            System.out.printf("{\"test\":\"memory_lean\",\"model\":\"%s\",\"variant\":\"%s\",\"loss_diff\":%.3g,\"accuracy_diff\":%.3g,"
                    + "\"max_rel_grad_diff\":%.3g}%n", model, v, dl, da, worst);
            assertTrue(dl <= TOL, v + ": loss differs by " + dl);
            assertTrue(da <= TOL, v + ": accuracy differs by " + da);
            assertTrue(worst <= TOL, v + ": gradients differ by up to " + worst);
        }
        assertTrue(Math.abs(ModelRun.scalar(out, "fcm.loss") - lossRef) > 1e-4, "the forgetful mask changes the loss");
    }

    private static Tensor[] result(LmLoss.Result r) {
        return new Tensor[] {r.loss(), r.accuracy()};
    }
}
