package io.cohx.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.models.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loss/perplexity against the token log-probabilities of a separate forward pass. */
class LossEvalTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void packedRecordsCountOnlyTheirAnswerTokens(@TempDir Path dir) throws Exception {
        EvalModel m = TinyModel.get();
        Tokenizer tok = m.tokenizer();
        var rec = new LinkedHashMap<String, Object>();
        rec.put("marker_user", "User:");
        rec.put("marker_gpt", "A helpful answer:");
        rec.put("human_0", "How do I boil an egg?");
        rec.put("gpt_1", "Nine minutes in boiling water.");
        rec.put("fields", "[marker_user+human_0+marker_gpt],gpt_1,<|eos|>");
        Path f = dir.resolve("coh.jsonl");
        Files.writeString(f, JSON.writeValueAsString(rec) + "\n" + JSON.writeValueAsString(rec) + "\n");
        EvalReport r = LossEval.run(m, TinyModel.scorer(), f, new LossEval.Settings(null, 128, 4, 0), DialogueEvalTest.QUIET);
        int[] prompt = tok.encode("User: How do I boil an egg? A helpful answer:");
        // TextProcessor.feedback(): the fields, then add_eos_token's eos (mask 1)
        int[] all = TinyModel.concat(prompt, tok.encode("Nine minutes in boiling water."), new int[] {tok.eosId(), tok.eosId()});
        double[] lp = TinyModel.tokenLogprobs(all);
        double want = -TinyModel.sum(lp, prompt.length, all.length) / (all.length - prompt.length);
        assertEquals(want, r.metrics().get("loss").value(), 1e-4);
        assertEquals(Math.exp(want), r.metrics().get("perplexity").value(), 1e-3 * Math.exp(want));
        assertEquals(2L * (all.length - prompt.length), r.counts().get("scored_tokens"));
    }

    @Test
    void longTextIsScoredInRollingWindowsEveryTokenOnce(@TempDir Path dir) throws Exception {
        EvalModel m = TinyModel.get();
        String text = "The quick brown fox jumps over the lazy dog. ".repeat(6).strip();
        Path f = dir.resolve("text.jsonl");
        Files.writeString(f, JSON.writeValueAsString(Map.of("text", text)) + "\n");
        int n = m.tokenizer().encode(text).length + 1; // + eos
        EvalReport whole = LossEval.run(m, TinyModel.scorer(), f, new LossEval.Settings(null, 128, 2, 0), DialogueEvalTest.QUIET);
        EvalReport windows = LossEval.run(m, f, new LossEval.Settings(null, 16, 2, 0), DialogueEvalTest.QUIET);
        assertEquals((long) n, whole.counts().get("scored_tokens"));
        assertEquals((long) n, windows.counts().get("scored_tokens"), "each token once, however many windows");
        double[] lp = TinyModel.tokenLogprobs(TinyModel.concat(m.tokenizer().encode(text), new int[] {m.tokenizer().eosId()}));
        assertEquals(-TinyModel.sum(lp, 0, n) / n, whole.metrics().get("loss").value(), 1e-4);
        assertTrue(Math.abs(whole.metrics().get("loss").value() - windows.metrics().get("loss").value()) > 1e-6,
                "shorter windows see less context, so the number moves");
    }

    @Test
    void aFileWithoutTextOrFieldsSaysWhatToPass(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("x.jsonl");
        Files.writeString(f, "{\"body\": \"hello\"}\n");
        var e = assertThrows(EvalException.class, () -> LossEval.run(TinyModel.get(), TinyModel.scorer(), f, new LossEval.Settings(null, 64, 1, 0),
                DialogueEvalTest.QUIET));
        assertTrue(e.getMessage().contains("--text-field"), e.getMessage());
    }
}
