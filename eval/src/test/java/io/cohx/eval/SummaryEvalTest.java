package io.cohx.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Summary ROUGE with a known answer: greedy generation is deterministic, so when the references
 * are the model's own summaries every F1 is 1; with references that share no word, 0.
 */
class SummaryEvalTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void rougeIsOneAgainstTheModelsOwnSummariesAndZeroAgainstUnrelatedText(@TempDir Path dir) throws Exception {
        EvalModel m = TinyModel.get();
        Path posts = dir.resolve("posts.jsonl");
        Files.writeString(posts, String.join("\n",
                JSON.writeValueAsString(Map.of("post", "My landlord kept my deposit after I moved out.", "summary", "zzz")),
                JSON.writeValueAsString(Map.of("post", "I trained for a marathon and finished it in four hours.", "summary", "zzz")),
                JSON.writeValueAsString(Map.of("post", "The cat knocks every glass off the table at night.", "summary", "zzz"))) + "\n");
        Path gens = dir.resolve("gens.jsonl");
        var s = new SummaryEval.Settings(SummaryEval.Settings.TEMPLATE, "post", "summary", 48, 12, List.of(), 2, 0, gens);
        EvalReport first = SummaryEval.run(m, posts, s, DialogueEvalTest.QUIET);
        assertEquals(0.0, first.metrics().get("rouge1_f1").value(), "'zzz' is no word of any generated summary");

        // The generations file is the next run's references (and the human-evaluation page's input).
        var sb = new StringBuilder();
        for (String line : Files.readAllLines(gens)) {
            JsonNode g = JSON.readTree(line);
            assertTrue(g.get("prompt").asText().startsWith("User: ") && g.get("prompt").asText().endsWith(" A good summary:"));
            String post = g.get("prompt").asText().substring("User: ".length(), g.get("prompt").asText().length() - " A good summary:".length());
            sb.append(JSON.writeValueAsString(Map.of("post", post, "summary", g.get("output").asText()))).append('\n');
        }
        Path own = dir.resolve("own.jsonl");
        Files.writeString(own, sb.toString());
        EvalReport second = SummaryEval.run(m, own, new SummaryEval.Settings(SummaryEval.Settings.TEMPLATE, "post", "summary", 48, 12,
                List.of(), 2, 0, null), DialogueEvalTest.QUIET);
        for (var e : second.examples()) {
            var sc = (SummaryEval.Scored) e;
            if (Rouge.tokens(sc.reference()).size() >= 2) { // ROUGE of texts with no (or one) word is 0 by definition
                assertEquals(1.0, sc.rouge1(), 1e-12, sc.generated());
                assertEquals(1.0, sc.rouge2(), 1e-12, sc.generated());
                assertEquals(1.0, sc.rougeL(), 1e-12, sc.generated());
            }
            assertEquals(sc.reference(), sc.generated(), "greedy decoding gives the same summary twice");
        }
        assertEquals("bootstrap", second.metrics().get("rougeL_f1").method());
        assertEquals(SummaryEval.Settings.TEMPLATE, second.prompts().get("template"));
    }
}
