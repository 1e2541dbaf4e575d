package io.cohx.models.generate;

import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.Tree;
import io.cohx.models.CausalLm;
import io.cohx.models.ForwardOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Continuous batching's device side: rows that join at different steps, with prompts prefilled in
 * chunks between decode steps, each at its own position, give exactly the tokens of argmax
 * decoding by full forward passes, the same as each row alone in the decoder, and a seeded
 * sampled row gives the static generator's tokens. Debug LLaMA with random weights, also with
 * grouped-query (2 KV heads for 4 query heads) and multi-query attention (1 KV head, head size
 * 48), whose cache holds only the KV heads: there every row also equals the static generator
 * run on that request alone.
 */
class SlotDecoderTest {
    static final int NEW = 10;

    /** One row driven by hand: its prompt, how much of it is in the cache, and its tokens. */
    static final class Row {
        final int[] prompt;
        final Sampling sampling;
        final int slot;
        int prefilled;
        final List<Integer> out = new ArrayList<>();

        Row(int[] prompt, Sampling sampling, int slot) {
            this.prompt = prompt;
            this.sampling = sampling;
            this.slot = slot;
        }

        boolean decoding() {
            return prefilled == prompt.length && out.size() < NEW;
        }

        int[] tokens() {
            return out.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    /** Admits each row at its step; per step: one prefill chunk of the first row still prefilling, then a decode step. */
    static void drive(SlotDecoder d, List<Row> rows, int[] joinAt) {
        for (int step = 0; rows.stream().anyMatch(r -> r.out.size() < NEW); step++) {
            for (int i = 0; i < rows.size(); i++) {
                if (joinAt[i] == step) {
                    d.assign(rows.get(i).slot, rows.get(i).sampling);
                }
            }
            for (int i = 0; i < rows.size(); i++) {
                Row r = rows.get(i);
                if (joinAt[i] <= step && r.prefilled < r.prompt.length) {
                    int to = Math.min(r.prompt.length, r.prefilled + d.chunk());
                    Token t = d.prefill(r.slot, r.prompt, r.prefilled, to, false);
                    r.prefilled = to;
                    if (to == r.prompt.length) {
                        r.out.add(t.id());
                    }
                    break;
                }
            }
            int[] tokens = new int[d.slots()];
            int[] columns = new int[d.slots()];
            int[] index = new int[d.slots()];
            boolean[] active = new boolean[d.slots()];
            for (Row r : rows) {
                if (r.decoding()) {
                    active[r.slot] = true;
                    tokens[r.slot] = r.out.getLast();
                    columns[r.slot] = r.prompt.length + r.out.size() - 1;
                    index[r.slot] = r.out.size();
                }
            }
            Token[] next = d.decode(tokens, columns, active, index, false);
            for (Row r : rows) {
                if (active[r.slot]) {
                    r.out.add(next[r.slot].id());
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama-gqa", "llama-mqa"})
    void rowsJoiningAtDifferentStepsDecodeAsAloneAndAsTheFullModel(String type) {
        CausalLm lm = GenerateTest.model(type);
        Tree<DeviceArray> params = GenerateTest.init(lm, 7);
        var random = new SplittableRandom(3);
        int vocab = lm.config().vocabSize();
        int[][] prompts = {GenerateTest.randomTokens(random, 13, vocab), GenerateTest.randomTokens(random, 5, vocab),
                GenerateTest.randomTokens(random, 3, vocab)};
        try (Jit argmax = Jit.builder("full_argmax", t -> Tree.of("argmax",
                     lm.logits(t.subtree("params"), t.get("ids"), ForwardOptions.EVAL).argmax(2))).build(GenerateTest.client());
             var gen = new Generator(lm, params, null, GenerateTest.client(), 1, GenerateTest.CACHE, new Buckets(List.of(16)), DType.F32);
             var d = new SlotDecoder(lm, params, GenerateTest.client(), 3, GenerateTest.CACHE, 8, DType.F32, 3, lm.config().vocabSize(), null)) {
            List<Row> together = List.of(new Row(prompts[0], Sampling.GREEDY, 2), new Row(prompts[1], Sampling.GREEDY, 0),
                    new Row(prompts[2], Sampling.GREEDY, 1));
            drive(d, together, new int[] {0, 1, 4}); // the 13-token prompt takes two chunks; the last row joins mid-decode
            for (int i = 0; i < prompts.length; i++) {
                int[] want = GenerateTest.fullForwardGreedy(argmax, params, prompts[i], NEW);
                assertArrayEquals(want, together.get(i).tokens(), type + ": row " + i + " against full forward passes");
                Row alone = new Row(prompts[i], Sampling.GREEDY, 0);
                drive(d, List.of(alone), new int[] {0});
                assertArrayEquals(together.get(i).tokens(), alone.tokens(), type + ": row " + i + " alone");
                int[] generated = gen.generate(List.of(new Generator.Request(prompts[i], NEW, Sampling.GREEDY))).getFirst().tokens();
                assertArrayEquals(generated, together.get(i).tokens(), type + ": row " + i + " against the static generator alone");
            }
        }
    }

    @Test
    void aSeededSampledRowGivesTheStaticGeneratorsTokensAndAlternativesComeInOrder() {
        CausalLm lm = GenerateTest.model("llama");
        Tree<DeviceArray> params = GenerateTest.init(lm, 8);
        int[] prompt = GenerateTest.randomTokens(new SplittableRandom(5), 6, lm.config().vocabSize());
        Sampling seeded = new Sampling(1.0, 0, 1, 77);
        try (var gen = new Generator(lm, params, null, GenerateTest.client(), 1, GenerateTest.CACHE, new Buckets(List.of(8)), DType.F32);
             var d = new SlotDecoder(lm, params, GenerateTest.client(), 2, GenerateTest.CACHE, 16, DType.F32, 4, lm.config().vocabSize(), null)) {
            int[] want = gen.generate(List.of(new Generator.Request(prompt, NEW, seeded))).getFirst().tokens();
            Row other = new Row(GenerateTest.randomTokens(new SplittableRandom(6), 9, lm.config().vocabSize()), new Sampling(0.8, 5, 0.9, 1), 0);
            Row row = new Row(prompt, seeded, 1);
            drive(d, List.of(other, row), new int[] {0, 2});
            assertArrayEquals(want, row.tokens(), "same key, same token indices: the same draws");

            d.assign(0, Sampling.GREEDY);
            Token first = d.prefill(0, prompt, 0, prompt.length, true);
            assertEquals(4, first.top().length);
            assertEquals(first.id(), first.top()[0], "greedy picks the most likely");
            assertEquals(first.logprob(), first.topLogprobs()[0], 0f);
            for (int j = 1; j < 4; j++) {
                assertEquals(true, first.topLogprobs()[j] <= first.topLogprobs()[j - 1], Arrays.toString(first.topLogprobs()));
            }
        }
    }
}
