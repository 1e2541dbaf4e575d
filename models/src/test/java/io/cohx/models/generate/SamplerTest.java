package io.cohx.models.generate;

import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Sampler} on hand-made logits: what top-k and top-p keep, and that draws follow the probabilities. */
class SamplerTest {

    @Test
    void topKTopPAndTemperatureKeepTheRightTokens() {
        int v = 8;
        // Row logits log(p) for p = 0.4, 0.3, 0.2, 0.05, 0.03, 0.01, 0.005, 0.005 (in a shuffled order).
        double[] p = {0.05, 0.4, 0.005, 0.2, 0.03, 0.3, 0.01, 0.005};
        double[] logits = new double[4 * v];
        for (int r = 0; r < 4; r++) {
            for (int i = 0; i < v; i++) {
                logits[r * v + i] = Math.log(p[i]);
            }
        }
        NdArray lg = NdArray.of(DType.F32, logits, 4, v);
        // rows: greedy; top_k 2; top_p 0.65 (keeps 0.4 + 0.3); plain temperature 1
        NdArray temperature = NdArray.of(new float[] {0, 1, 1, 1}, 4);
        NdArray topK = NdArray.of(new int[] {0, 2, 0, 0}, 4);
        NdArray topP = NdArray.of(new float[] {1, 1, 0.65f, 1}, 4);
        NdArray keys = NdArray.of(DType.U32, new double[] {0, 1, 0, 2, 0, 3, 0, 4}, 4, 2);
        Set<Integer> row1 = new HashSet<>();
        Set<Integer> row2 = new HashSet<>();
        int[] counts = new int[v];
        int draws = 400;
        try (Jit jit = Jit.builder("sample", t -> {
            Sampler.Sample s = Sampler.sample(t.get("logits"), t.get("temperature"), t.get("top_k"), t.get("top_p"), t.get("keys"),
                    t.get("index"), 1);
            return Tree.of("tokens", s.tokens(), "logprobs", s.logprobs());
        }).build(GenerateTest.client())) {
            for (int i = 0; i < draws; i++) {
                Tree<DeviceArray> out = jit.call(Tree.<Object>of("logits", lg, "temperature", temperature, "top_k", topK)
                        .with("top_p", topP).with("keys", keys).with("index", NdArray.scalar(DType.S32, i)));
                int[] tok = out.get("tokens").toHost().toIntArray();
                float[] lp = out.get("logprobs").toHost().toFloatArray();
                out.values().forEach(DeviceArray::close);
                assertEquals(1, tok[0], "temperature 0 is the argmax");
                assertEquals(Math.log(0.4), lp[0], 1e-5, "log-prob of the picked token under the unfiltered model");
                row1.add(tok[1]);
                row2.add(tok[2]);
                counts[tok[3]]++;
            }
        }
        assertEquals(Set.of(1, 5), row1, "top_k 2 keeps the two most likely tokens, and both get drawn");
        assertEquals(Set.of(1, 5), row2, "top_p 0.65 keeps 0.4 and 0.3");
        // Plain sampling: frequencies near the probabilities (0.4 * 400 = 160, sd ~10).
        assertTrue(Math.abs(counts[1] - 160) < 50, "token 1 drawn " + counts[1] + " times of " + draws);
        assertTrue(Math.abs(counts[5] - 120) < 45, "token 5 drawn " + counts[5] + " times of " + draws);
    }

    @Test
    void theTopAlternativesAreTheMostLikelyTokensInOrderWithTheirLogprobs() {
        double[] p = {0.05, 0.4, 0.005, 0.2, 0.03, 0.3, 0.01, 0.005};
        double[] logits = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            logits[i] = Math.log(p[i]) + 3; // logits, not log-probs: the sampler normalizes
        }
        try (Jit jit = Jit.builder("top", t -> {
            Sampler.Sample s = Sampler.sample(t.get("logits"), t.get("temperature"), t.get("top_k"), t.get("top_p"), t.get("keys"),
                    t.get("index"), 4);
            return Tree.of("ids", s.topTokens(), "lp", s.topLogprobs());
        }).build(GenerateTest.client())) {
            Tree<DeviceArray> out = jit.call(Tree.<Object>of("logits", NdArray.of(DType.F32, logits, 1, p.length),
                    "temperature", NdArray.of(new float[] {0}, 1), "top_k", NdArray.of(new int[] {0}, 1))
                    .with("top_p", NdArray.of(new float[] {1}, 1)).with("keys", NdArray.of(DType.U32, new double[] {0, 1}, 1, 2))
                    .with("index", NdArray.scalar(DType.S32, 0)));
            int[] ids = out.get("ids").toHost().toIntArray();
            float[] lp = out.get("lp").toHost().toFloatArray();
            out.values().forEach(DeviceArray::close);
            assertEquals(java.util.List.of(1, 5, 3, 0), java.util.Arrays.stream(ids).boxed().toList());
            for (int j = 0; j < 4; j++) {
                assertEquals(Math.log(p[ids[j]]), lp[j], 1e-5, "alternative " + j);
            }
        }
    }

    @Test
    void aRowsDrawDependsOnlyOnItsKeyAndItsOwnTokenIndex() {
        int v = 8;
        double[] logits = new double[3 * v];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = Math.sin(i * 0.7);
        }
        NdArray lg = NdArray.of(DType.F32, logits, 3, v);
        NdArray keys = NdArray.of(DType.U32, new double[] {0, 7, 0, 8, 0, 9}, 3, 2);
        try (Jit jit = Jit.builder("draw", t -> Tree.of("tokens", Sampler.sample(t.get("logits"), t.get("temperature"), t.get("top_k"),
                t.get("top_p"), t.get("keys"), t.get("index"), 1).tokens())).build(GenerateTest.client())) {
            java.util.function.Function<NdArray, int[]> draw = index -> {
                Tree<DeviceArray> out = jit.call(Tree.<Object>of("logits", lg, "temperature", NdArray.of(new float[] {1, 1, 1}, 3),
                        "top_k", NdArray.of(new int[3], 3)).with("top_p", NdArray.of(new float[] {1, 1, 1}, 3)).with("keys", keys)
                        .with("index", index));
                int[] r = out.get("tokens").toHost().toIntArray();
                out.values().forEach(DeviceArray::close);
                return r;
            };
            int[][] byScalar = new int[20][];
            for (int i = 0; i < 20; i++) {
                byScalar[i] = draw.apply(NdArray.scalar(DType.S32, i));
            }
            for (int i = 0; i + 10 < 20; i++) {
                // Rows at different token indices (as in continuous batching) draw what they would alone.
                int[] mixed = draw.apply(NdArray.of(new int[] {i, i + 5, i + 10}, 3));
                assertEquals(byScalar[i][0], mixed[0]);
                assertEquals(byScalar[i + 5][1], mixed[1]);
                assertEquals(byScalar[i + 10][2], mixed[2]);
            }
        }
    }
}
