package io.cohx.models.generate;

import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Rng;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.models.CausalLm;
import io.cohx.models.ForwardOptions;
import io.cohx.models.config.ModelConfigs;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * KV-cache generation against the plain model: greedy decoding with the cache (left-padded rows
 * of different lengths in one batch, an idle row, a cache reused across batches) gives exactly
 * the tokens of argmax decoding by a full forward pass per token; sampling settings that leave one
 * candidate reduce to greedy; seeds reproduce; and log-likelihoods equal sums of the full pass's
 * token log-probabilities. Debug-size LLaMA (also with grouped- and multi-query attention) and
 * GPT-J with random weights from a seed.
 */
class GenerateTest {
    static final int CACHE = 32;
    static final int NEW_TOKENS = 12;

    static PjrtClient client() {
        return TestPlugins.cpuClient(1);
    }

    /**
     * The debug models, and two LLaMA-family variants: grouped-query attention with tied
     * embeddings and llama3 rope scaling; multi-query attention with a head size other than
     * hidden/heads and linear rope scaling.
     */
    static CausalLm model(String type) {
        return CausalLm.of(switch (type) {
            case "llama-gqa" -> ModelConfigs.resolve("debug", "llama").withUpdates(Map.of("num_key_value_heads", 2,
                    "tie_word_embeddings", true, "rope_theta", 500000.0, "rope_scaling", Map.of("rope_type", "llama3",
                            "factor", 8.0, "low_freq_factor", 1.0, "high_freq_factor", 4.0, "original_max_position_embeddings", 16)),
                    "test");
            case "llama-mqa" -> ModelConfigs.resolve("debug", "llama").withUpdates(Map.of("num_key_value_heads", 1,
                    "head_dim", 48, "rope_scaling", Map.of("rope_type", "linear", "factor", 2.0)), "test");
            default -> ModelConfigs.resolve("debug", type);
        });
    }

    static Tree<DeviceArray> init(CausalLm lm, long seed) {
        try (Jit init = Jit.builder("init", t -> lm.init(Rng.key(seed))).build(client())) {
            return init.call(Tree.empty());
        }
    }

    static int[] randomTokens(SplittableRandom r, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(3, vocab);
        }
        return t;
    }

    /** Argmax decoding with one full forward pass over the (right-padded) sequence per new token. */
    static int[] fullForwardGreedy(Jit argmax, Tree<DeviceArray> params, int[] prompt, int n) {
        int[] seq = Arrays.copyOf(prompt, CACHE);
        int len = prompt.length;
        for (int i = 0; i < n; i++) {
            Tree<DeviceArray> out = argmax.call(Tree.<Object>empty().nest("params", params).with("ids", NdArray.of(seq, 1, CACHE)));
            try (DeviceArray a = out.get("argmax")) {
                seq[len] = a.toHost().toIntArray()[len - 1];
            }
            len++;
        }
        return Arrays.copyOfRange(seq, prompt.length, len);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "gptj", "llama-gqa", "llama-mqa"})
    void greedyWithTheCacheEqualsRepeatedFullForwardPasses(String type) {
        CausalLm lm = model(type);
        Tree<DeviceArray> params = init(lm, 7);
        var random = new SplittableRandom(11);
        int vocab = lm.config().vocabSize();
        int[] shortPrompt = randomTokens(random, 5, vocab);
        int[] longPrompt = randomTokens(random, 13, vocab);
        int[] other = randomTokens(random, 3, vocab);
        try (Jit argmax = Jit.builder("full_argmax", t -> Tree.of("argmax",
                     lm.logits(t.subtree("params"), t.get("ids"), ForwardOptions.EVAL).argmax(2))).build(client());
             var gen = new Generator(lm, params, null, client(), 3, CACHE, new Buckets(List.of(8, 16)), DType.F32);
             var scorer = new Scorer(lm, params, client(), 2, new Buckets(List.of(32)), DType.F32)) {
            // A first batch fills the cache with other rows' keys, which the next batch must never see.
            gen.generate(List.of(new Generator.Request(other, 4, new Sampling(1.0, 0, 1, 5))));
            var out = gen.generate(List.of(new Generator.Request(shortPrompt, NEW_TOKENS, Sampling.GREEDY),
                    new Generator.Request(longPrompt, NEW_TOKENS, Sampling.GREEDY)));
            int[] wantShort = fullForwardGreedy(argmax, params, shortPrompt, NEW_TOKENS);
            int[] wantLong = fullForwardGreedy(argmax, params, longPrompt, NEW_TOKENS);
            assertArrayEquals(wantShort, out.get(0).tokens(), type + ": row of 5 prompt tokens");
            assertArrayEquals(wantLong, out.get(1).tokens(), type + ": row of 13 prompt tokens (other bucket width)");
            assertEquals(FinishReason.LENGTH, out.get(0).finish());
            // Greedy tokens are the argmax at every position: the scorer agrees, and its sum matches the generator's log-probs.
            Scorer.Scored s = scorer.score(List.of(Scorer.Row.continuation(-1, shortPrompt, wantShort))).getFirst();
            assertTrue(s.greedy(), type + ": the greedy continuation is greedy");
            double genSum = 0;
            for (float f : out.get(0).logprobs()) {
                genSum += f;
            }
            assertEquals(s.logLikelihood(), genSum, 1e-3, type + ": log-likelihood of the greedy continuation");
            if (type.equals("llama")) {
                samplingSettings(gen, shortPrompt, wantShort);
            }
        }
    }

    /** Sampling that keeps one candidate is greedy; seeds reproduce and do not depend on the batch. */
    private void samplingSettings(Generator gen, int[] prompt, int[] greedy) {
        int[] topK1 = gen.generate(List.of(new Generator.Request(prompt, NEW_TOKENS, new Sampling(1.0, 1, 1, 3)))).getFirst().tokens();
        assertArrayEquals(greedy, topK1, "top_k = 1 is greedy");
        int[] tinyP = gen.generate(List.of(new Generator.Request(prompt, NEW_TOKENS, new Sampling(0.7, 0, 1e-6, 3)))).getFirst().tokens();
        assertArrayEquals(greedy, tinyP, "top_p near 0 is greedy");
        Sampling seeded = new Sampling(1.0, 0, 1, 1234);
        int[] a = gen.generate(List.of(new Generator.Request(prompt, NEW_TOKENS, seeded))).getFirst().tokens();
        var both = gen.generate(List.of(new Generator.Request(new int[] {5, 6, 7}, NEW_TOKENS, new Sampling(1, 0, 1, 99)),
                new Generator.Request(prompt, NEW_TOKENS, seeded)));
        assertArrayEquals(a, both.get(1).tokens(), "a seeded row gives the same tokens in another batch");
        int[] c = gen.generate(List.of(new Generator.Request(prompt, NEW_TOKENS, new Sampling(1.0, 0, 1, 4321)))).getFirst().tokens();
        assertFalse(Arrays.equals(a, c), "another seed, other tokens");
        assertNotEquals(greedy[0] == a[0] && Arrays.equals(greedy, a), true, "temperature 1 on random weights is not greedy");
    }
}
