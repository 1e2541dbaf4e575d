package io.cohx.models;

import io.cohx.engine.DType;
import io.cohx.engine.NdArray;
import io.cohx.engine.Rng;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Packing without cross-example attention ({@link ForwardOptions#segmentIds()}): the logits of a
 * row that packs three examples equal the logits of each example run alone (positions restart,
 * nothing leaks between examples), with remat too; in training with the forgetful causal mask an
 * example's logits do not depend on the examples before it; and {@link LmLoss#shiftRight(Tensor,
 * int, Tensor)} starts every example with bos. Golden models: the LLaMA of the reference, the
 * Llama-3-style one (grouped-query attention, rope scaling, tied) and GPT-J (partial rotary).
 */
class PackedRowsTest {
    /** Example lengths packed into one row of 16. */
    static final int[] LENGTHS = {5, 7, 4};
    static final int S = 16;

    static int[] segmentIds() {
        int[] ids = new int[S];
        int at = 0;
        for (int e = 0; e < LENGTHS.length; e++) {
            Arrays.fill(ids, at, at + LENGTHS[e], e + 1);
            at += LENGTHS[e];
        }
        return ids;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama3", "gptj"})
    void packedRowEqualsEachExampleAlone(String model) {
        ModelGolden g = ModelGolden.load(model);
        CausalLm lm = g.lm();
        int[] row = Arrays.copyOf(g.inputIds().toIntArray(), S); // the golden batch's first row as token ids
        int[] changed = row.clone();
        for (int i = 0; i < LENGTHS[0]; i++) {
            changed[i] = (changed[i] + 17) % lm.config().vocabSize(); // another first example
        }
        int[] seg = segmentIds();
        Tree<Object> in = Tree.<Object>empty().nest("params", g.params()).with("row", NdArray.of(row, 1, S))
                .with("changed", NdArray.of(changed, 1, S)).with("seg", NdArray.of(seg, 1, S))
                .with("key", Rng.keyData(3));
        Tree<NdArray> out = ModelRun.once(model + "_packed", in, t -> {
            Tree<Tensor> p = t.subtree("params");
            Tensor ids = t.get("row");
            Tensor segs = t.get("seg");
            ForwardOptions packed = ForwardOptions.EVAL.withSegmentIds(segs);
            Tree<Tensor> r = Tree.of("packed", lm.logits(p, ids, packed),
                    "packed_remat", lm.logits(p, ids, new ForwardOptions(DType.F32, false, null, 0, 0, true, segs)),
                    "plain", lm.logits(p, ids, ForwardOptions.EVAL));
            int at = 0;
            for (int e = 0; e < LENGTHS.length; e++) {
                r = r.with("alone." + e, lm.logits(p, ids.slice(1, at, at + LENGTHS[e]), ForwardOptions.EVAL));
                at += LENGTHS[e];
            }
            var fcm = new ForwardOptions(DType.F32, true, t.get("key"), 0.3, 0.6, false, segs);
            return r.with("fcm", lm.logits(p, ids, fcm)).with("fcm_changed", lm.logits(p, t.get("changed"), fcm));
        });
        int v = lm.config().vocabSize();
        float[] packed = out.get("packed").toFloatArray();
        float[] remat = out.get("packed_remat").toFloatArray();
        float[] plain = out.get("plain").toFloatArray();
        int at = 0;
        double worst = 0;
        for (int e = 0; e < LENGTHS.length; e++) {
            float[] alone = out.get("alone." + e).toFloatArray();
            float[] slice = Arrays.copyOfRange(packed, at * v, (at + LENGTHS[e]) * v);
            worst = Math.max(worst, maxAbsDiff(alone, slice));
            at += LENGTHS[e];
        }
        System.out.printf("{\"test\":\"packed_rows\",\"model\":\"%s\",\"max_abs_logit_diff_vs_alone\":%.3g}%n", model, worst);
        assertTrue(worst < 1e-5, model + ": packed logits differ from each example alone by " + worst);
        assertArrayEquals(packed, remat, model + ": remat computes the same packed logits");
        assertArrayEquals(Arrays.copyOf(plain, LENGTHS[0] * v), Arrays.copyOf(packed, LENGTHS[0] * v),
                "the first example is alone either way");
        assertTrue(maxAbsDiff(plain, packed) > 1e-3, model + ": without segment ids later examples see earlier ones");

        float[] fcm = out.get("fcm").toFloatArray();
        float[] fcmChanged = out.get("fcm_changed").toFloatArray();
        int first = LENGTHS[0] * v;
        assertArrayEquals(Arrays.copyOfRange(fcm, first, fcm.length), Arrays.copyOfRange(fcmChanged, first, fcm.length),
                model + ": with the forgetful mask, later examples do not see the first one");
        assertTrue(maxAbsDiff(Arrays.copyOf(fcm, first), Arrays.copyOf(fcmChanged, first)) > 1e-3, "the first example changed");
    }

    @Test
    void shiftRightStartsEachExampleWithBos() {
        int bos = 1;
        int[] tokens = {10, 11, 12, 13, 14, 20, 21, 22, 23, 24, 25, 26, 30, 31, 32, 33};
        Tree<NdArray> out = ModelRun.once("shift_segments", Tree.of("t", NdArray.of(tokens, 1, S), "s", NdArray.of(segmentIds(), 1, S)),
                t -> Tree.of("x", LmLoss.shiftRight(t.get("t"), bos, t.get("s"))));
        assertArrayEquals(new int[] {bos, 10, 11, 12, 13, bos, 20, 21, 22, 23, 24, 25, bos, 30, 31, 32}, out.get("x").toIntArray());
        assertEquals(S, out.get("x").size());
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
