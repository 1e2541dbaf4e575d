package io.cohx.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.models.generate.Buckets;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Sampling;
import io.cohx.models.generate.Scorer;
import io.cohx.models.testdata.TestModels;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.Tokenizers;
import io.cohx.pjrt.PjrtClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real SmolLM2-135M-Instruct (Q4_1 GGUF, loaded as {@code gguf::FILE} loads it: config,
 * tokenizer and weights from the file) against an independent NumPy forward
 * (tools/reference/smollm2_reference.py: float64 on {@code gguf.quants.dequantize} weights,
 * written from the architecture as llama.cpp runs it): prompt ids from the file's vocabulary,
 * next-token logits in f32 within 1e-4 of the logit scale, the perplexity of a fixed paragraph
 * within 1e-3 relative (through the {@link Scorer} the server and {@code cohx eval} use), and
 * greedy continuations token for token (through the batched, left-padded {@link Generator}).
 * Each program is compiled once, for every prompt together.
 */
class SmolLm2ReferenceTest {
    static final double LOGIT_TOL = 1e-4;
    static final double PERPLEXITY_TOL = 1e-3;

    static JsonNode golden;
    static CausalLm lm;
    static Tokenizer tok;
    static Tree<DeviceArray> params;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = SmolLm2ReferenceTest.class.getResourceAsStream("/gguf/smollm2-reference.json")) {
            golden = new ObjectMapper().readTree(in);
        }
        GgufWeights.Loaded m = GgufWeights.load(TestModels.smolLm2());
        lm = CausalLm.of(m.config());
        tok = Tokenizers.fromVocabulary(m.tokenizer().vocabulary());
        PjrtClient client = ModelRun.client();
        params = m.params().map(a -> DeviceArray.put(client, a));
    }

    @AfterAll
    static void free() {
        if (params != null) {
            params.values().forEach(DeviceArray::close);
        }
    }

    static int[] ids(JsonNode n) {
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = n.get(i).asInt();
        }
        return out;
    }

    @Test
    void promptsTokenizeAsTheReference() {
        for (JsonNode p : golden.get("prompts")) {
            // Chat markup is parsed into its control tokens, as the tokenizers library does by default.
            assertArrayEquals(ids(p.get("ids")), tok.encode(p.get("text").asText(), Tokenizer.SpecialTokens.PARSE), p.get("text").asText());
        }
        JsonNode para = golden.get("perplexity");
        assertArrayEquals(ids(para.get("ids")), tok.encode(para.get("text").asText()), "the perplexity paragraph");
    }

    @Test
    void nextTokenLogitsMatchTheReference() throws IOException {
        JsonNode spec = golden.get("logits");
        int n = spec.get("prompts").asInt();
        int vocab = spec.get("vocab").asInt();
        assertEquals(lm.config().vocabSize(), vocab);
        float[] want = new float[n * vocab];
        try (InputStream in = SmolLm2ReferenceTest.class.getResourceAsStream("/gguf/" + spec.get("file").asText())) {
            ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(want);
        }
        // All prompts in one batch, right-padded: under the causal mask padding never reaches earlier positions.
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            prompts.add(ids(golden.get("prompts").get(i).get("ids")));
        }
        int width = prompts.stream().mapToInt(p -> p.length).max().orElseThrow();
        int[] batch = new int[n * width];
        for (int i = 0; i < n; i++) {
            System.arraycopy(prompts.get(i), 0, batch, i * width, prompts.get(i).length);
        }
        float[] got;
        try (Jit jit = Jit.builder("smollm2_logits", t -> Tree.of("logits", lm.logits(t.subtree("params"), t.get("ids"), ForwardOptions.EVAL)))
                .build(ModelRun.client())) {
            got = ModelRun.call(jit, Tree.<Object>empty().nest("params", params).with("ids", NdArray.of(batch, n, width)))
                    .get("logits").toFloatArray();
        }
        for (int i = 0; i < n; i++) {
            int last = prompts.get(i).length - 1;
            double scale = 0, diff = 0;
            int argmaxWant = 0, argmaxGot = 0;
            for (int v = 0; v < vocab; v++) {
                float w = want[i * vocab + v];
                float g = got[(i * width + last) * vocab + v];
                scale = Math.max(scale, Math.abs(w));
                diff = Math.max(diff, Math.abs(w - g));
                if (w > want[i * vocab + argmaxWant]) argmaxWant = v;
                if (g > got[(i * width + last) * vocab + argmaxGot]) argmaxGot = v;
            }
            System.out.printf("{\"test\":\"smollm2_logits\",\"prompt\":%d,\"max_abs_diff\":%.3g,\"scale\":%.4f,\"relative\":%.3g}%n",
                    i, diff, scale, diff / scale);
            assertTrue(diff <= LOGIT_TOL * scale, "prompt " + i + ": logits differ by " + diff + ", more than " + LOGIT_TOL + " of the scale " + scale);
            assertEquals(argmaxWant, argmaxGot, "prompt " + i + ": the most likely next token");
        }
    }

    @Test
    void perplexityOfTheParagraphMatchesTheReference() {
        JsonNode para = golden.get("perplexity");
        int[] text = ids(para.get("ids"));
        double ppl;
        try (Scorer scorer = new Scorer(lm, params, ModelRun.client(), 1, new Buckets(List.of(text.length - 1)), DType.F32)) {
            Scorer.Scored s = scorer.score(List.of(Scorer.Row.allButFirst(text))).getFirst();
            ppl = Math.exp(-s.logLikelihood() / (text.length - 1));
        }
        double want = para.get("perplexity").asDouble();
        System.out.printf("{\"test\":\"smollm2_perplexity\",\"tokens\":%d,\"cohx\":%.6f,\"reference\":%.6f,\"relative\":%.3g}%n",
                text.length - 1, ppl, want, Math.abs(ppl - want) / want);
        assertEquals(want, ppl, PERPLEXITY_TOL * want, "perplexity of the Gettysburg Address");
        assertTrue(ppl > 1.5 && ppl < 50, "a real model on real English: " + ppl);
    }

    @Test
    void greedyContinuationsMatchTheReferenceTokenForToken() {
        JsonNode prompts = golden.get("prompts");
        int newTokens = golden.get("new_tokens").asInt();
        List<Generator.Request> requests = new ArrayList<>();
        int longest = 0;
        for (JsonNode p : prompts) {
            int[] ids = ids(p.get("ids"));
            longest = Math.max(longest, ids.length);
            requests.add(new Generator.Request(ids, newTokens, Sampling.GREEDY));
        }
        List<Generator.Result> results;
        try (var gen = new Generator(lm, params, null, ModelRun.client(), requests.size(), longest + newTokens,
                new Buckets(List.of(longest)), DType.F32)) {
            results = gen.generate(requests);
        }
        for (int i = 0; i < requests.size(); i++) {
            int[] want = ids(prompts.get(i).get("greedy"));
            int[] got = results.get(i).tokens();
            System.out.printf("{\"test\":\"smollm2_greedy\",\"prompt\":%d,\"text\":\"%s\"}%n", i,
                    tok.decode(got).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n"));
            assertArrayEquals(want, got, "prompt " + i + " " + prompts.get(i).get("text") + ": reference "
                    + Arrays.toString(want) + ", cohx " + Arrays.toString(got) + " (" + tok.decode(got) + ")");
        }
        assertFalse(tok.decode(results.getFirst().tokens()).isBlank());
    }
}
