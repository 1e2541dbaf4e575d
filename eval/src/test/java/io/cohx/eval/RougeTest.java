package io.cohx.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ROUGE on hand-counted cases, and against Google's rouge-score package on 610 pairs of real text
 * (rouge_golden.jsonl.gz, made by tools/reference/make_rouge_golden.py; regenerate with the
 * command in that script's docstring).
 */
class RougeTest {

    @Test
    void handCountedCase() {
        // reference: the cat sat on the mat (6 words); prediction: the cat lay on the mat today (7 words)
        Rouge.Scores s = Rouge.score("The cat sat on the mat.", "the cat lay on the mat, today!");
        // unigrams shared: the x2, cat, on, mat = 5 -> P 5/7, R 5/6
        assertEquals(5.0 / 7, s.rouge1().precision(), 1e-15);
        assertEquals(5.0 / 6, s.rouge1().recall(), 1e-15);
        assertEquals(2 * (5.0 / 7) * (5.0 / 6) / (5.0 / 7 + 5.0 / 6), s.rouge1().f1(), 1e-15);
        // bigrams: ref {the cat, cat sat, sat on, on the, the mat}; pred {the cat, cat lay, lay on, on the, the mat, mat today}: 3 shared
        assertEquals(3.0 / 6, s.rouge2().precision(), 1e-15);
        assertEquals(3.0 / 5, s.rouge2().recall(), 1e-15);
        // LCS: the cat on the mat = 5
        assertEquals(5.0 / 7, s.rougeL().precision(), 1e-15);
        assertEquals(5.0 / 6, s.rougeL().recall(), 1e-15);
    }

    @Test
    void emptySidesAndTokens() {
        assertEquals(0, Rouge.score("", "words here").rouge1().f1());
        assertEquals(0, Rouge.score("...", "...").rougeL().f1());
        assertEquals(List.of("caf", "d", "j", "vu", "555", "0100"), Rouge.tokens("Café déjà-vu 555-0100"));
        assertEquals(1.0, Rouge.score("Same words, same order", "same words same order").rouge2().f1(), 1e-15);
    }

    @Test
    void equalsRougeScoreOnRealText() throws Exception {
        var json = new ObjectMapper();
        int n = 0;
        double worst = 0;
        try (var in = new BufferedReader(new InputStreamReader(new GZIPInputStream(
                RougeTest.class.getResourceAsStream("rouge_golden.jsonl.gz")), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode g = json.readTree(line);
                Rouge.Scores s = Rouge.score(g.get("reference").textValue(), g.get("prediction").textValue());
                Rouge.Score[] mine = {s.rouge1(), s.rouge2(), s.rougeL()};
                String[] names = {"rouge1", "rouge2", "rougeL"};
                for (int k = 0; k < 3; k++) {
                    JsonNode want = g.get(names[k]);
                    double[] got = {mine[k].precision(), mine[k].recall(), mine[k].f1()};
                    for (int j = 0; j < 3; j++) {
                        double d = Math.abs(got[j] - want.get(j).doubleValue());
                        worst = Math.max(worst, d);
                        assertEquals(want.get(j).doubleValue(), got[j], 1e-6, names[k] + " of pair " + (n + 1) + ": " + line);
                    }
                }
                n++;
            }
        }
        assertTrue(n >= 500, "the golden file has " + n + " pairs");
        System.out.printf("ROUGE vs rouge-score: %d pairs, largest difference %.3g%n", n, worst);
    }
}
