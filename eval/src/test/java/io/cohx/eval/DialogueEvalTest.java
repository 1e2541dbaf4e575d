package io.cohx.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.models.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dialogue preference accuracy on the real CPU plugin, against log-probabilities computed by a separate forward pass. */
class DialogueEvalTest {
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    static final ObjectMapper JSON = new ObjectMapper();

    static final String[][] PAIRS = {
        {"\n\nHuman: How do I boil an egg?\n\nAssistant: Put it in boiling water for nine minutes.",
         "\n\nHuman: How do I boil an egg?\n\nAssistant: No idea."},
        {"\n\nHuman: Hi!\n\nAssistant: Hello, how can I help?\n\nHuman: Name a fruit.\n\nAssistant: An apple.",
         "\n\nHuman: Hi!\n\nAssistant: Hello, how can I help?\n\nHuman: Name a fruit.\n\nAssistant: A brick, obviously."},
        {"\n\nHuman: What is two plus two?\n\nAssistant: Four.",
         "\n\nHuman: What is two plus two?\n\nAssistant: Five, I think, but maybe it is six."},
    };

    static Path write(Path dir, String name, String[][] pairs) throws Exception {
        var sb = new StringBuilder();
        for (String[] p : pairs) {
            sb.append(JSON.writeValueAsString(Map.of("chosen", p[0], "rejected", p[1]))).append('\n');
        }
        Path f = dir.resolve(name);
        Files.writeString(f, sb.toString());
        return f;
    }

    @Test
    void templateScoresAreLogLikelihoodDifferencesOfGoodAndBad(@TempDir Path dir) throws Exception {
        EvalModel m = TinyModel.get();
        Tokenizer tok = m.tokenizer();
        var s = DialogueEval.Settings.defaults().withLengths(256, 4, 0);
        EvalReport r = DialogueEval.run(m, TinyModel.scorer(), write(dir, "pairs.jsonl", PAIRS), s, QUIET);
        long correct = 0;
        for (int i = 0; i < PAIRS.length; i++) {
            double[] want = new double[2];
            for (int side = 0; side < 2; side++) {
                int[] prefix = tok.encode("The following is a dialogue: " + PAIRS[i][side].strip() + ". This dialogue is");
                int[] good = tok.encode(" good");
                int[] bad = tok.encode(" bad");
                double[] lg = TinyModel.tokenLogprobs(TinyModel.concat(prefix, good));
                double[] lb = TinyModel.tokenLogprobs(TinyModel.concat(prefix, bad));
                want[side] = TinyModel.sum(lg, prefix.length, lg.length) - TinyModel.sum(lb, prefix.length, lb.length);
            }
            var got = (DialogueEval.PairScore) r.examples().get(i);
            assertEquals(want[0], got.chosen(), 1e-3, "chosen score of pair " + i);
            assertEquals(want[1], got.rejected(), 1e-3, "rejected score of pair " + i);
            assertEquals(want[0] > want[1], got.correct());
            correct += want[0] > want[1] ? 1 : 0;
        }
        assertEquals((double) correct / PAIRS.length, r.metrics().get("accuracy").value(), 1e-12);
        assertEquals("wilson", r.metrics().get("accuracy").method());
    }

    @Test
    void swappingChosenAndRejectedComplementsTheAccuracyAndEqualDialoguesTie(@TempDir Path dir) throws Exception {
        EvalModel m = TinyModel.get();
        String[][] swapped = new String[PAIRS.length][];
        String[][] same = new String[PAIRS.length][];
        for (int i = 0; i < PAIRS.length; i++) {
            swapped[i] = new String[] {PAIRS[i][1], PAIRS[i][0]};
            same[i] = new String[] {PAIRS[i][0], PAIRS[i][0]};
        }
        for (DialogueEval.Method method : DialogueEval.Method.values()) {
            var s = DialogueEval.Settings.defaults().withLengths(256, 4, 0).with(method);
            double a = DialogueEval.run(m, TinyModel.scorer(), write(dir, "a.jsonl", PAIRS), s, QUIET).metrics().get("accuracy").value();
            double b = DialogueEval.run(m, TinyModel.scorer(), write(dir, "b.jsonl", swapped), s, QUIET).metrics().get("accuracy").value();
            assertEquals(1.0, a + b, 1e-12, method + ": without ties, a pair is right one way round exactly");
            double pa = DialogueEval.run(m, TinyModel.scorer(), write(dir, "a.jsonl", PAIRS), s, QUIET).metrics().get("accuracy_per_token").value();
            double pb = DialogueEval.run(m, TinyModel.scorer(), write(dir, "b.jsonl", swapped), s, QUIET).metrics().get("accuracy_per_token").value();
            assertEquals(1.0, pa + pb, 1e-12, method + " per token");
            EvalReport tie = DialogueEval.run(m, TinyModel.scorer(), write(dir, "c.jsonl", same), s, QUIET);
            assertEquals(0.0, tie.metrics().get("accuracy").value(), "a tie is not a preference");
            assertEquals((long) PAIRS.length, tie.counts().get("ties"));
        }
    }

    @Test
    void cohScoresOnlyTheFinalAnswerInTheTrainingLayout(@TempDir Path dir) throws Exception {
        EvalModel m = TinyModel.get();
        Tokenizer tok = m.tokenizer();
        var s = DialogueEval.Settings.defaults().withLengths(256, 4, 0).with(DialogueEval.Method.COH);
        SequenceScorer.Sequence seq = DialogueEval.cohSequence(m, s, PAIRS[1][0]);
        int eos = tok.eosId();
        int[] ctx = TinyModel.concat(tok.encode("User: Hi! A helpful answer:"), tok.encode("Hello, how can I help?"), new int[] {eos},
                tok.encode("User: Name a fruit. A helpful answer:"));
        int[] answer = TinyModel.concat(tok.encode("An apple."), new int[] {eos});
        assertArrayEquals(TinyModel.concat(ctx, answer), seq.tokens(), "the same tokens cohx pack + TextProcessor give a p sequence");
        for (int i = 0; i < seq.mask().length; i++) {
            assertEquals(i >= ctx.length, seq.mask()[i], "only the final answer and its eos are scored (position " + i + ")");
        }
        EvalReport r = DialogueEval.run(m, TinyModel.scorer(), write(dir, "p.jsonl", new String[][] {PAIRS[1]}), s, QUIET);
        double[] lp = TinyModel.tokenLogprobs(seq.tokens());
        var got = (DialogueEval.PairScore) r.examples().getFirst();
        assertEquals(TinyModel.sum(lp, ctx.length, lp.length), got.chosen(), 1e-3);
        assertEquals(TinyModel.sum(lp, ctx.length, lp.length) / answer.length, got.chosenPerToken(), 1e-4);
        assertFalse(r.prompts().isEmpty());
        assertEquals("A helpful answer:", r.prompts().get("feedback"));
    }

    @Test
    void badInputNamesFileLineAndField(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, "{\"chosen\": \"a\", \"rejected\": \"b\"}\n{\"chosen\": \"a\"}\n");
        var e = assertThrows(EvalException.class, () -> DialogueEval.read(f, 0));
        assertTrue(e.getMessage().contains("bad.jsonl:2") && e.getMessage().contains("'rejected'"), e.getMessage());
        Files.writeString(f, "{\"chosen\": \"a\", \"rejected\": \"b\"}\n{oops\n");
        e = assertThrows(EvalException.class, () -> DialogueEval.read(f, 0));
        assertTrue(e.getMessage().contains("bad.jsonl:2: malformed JSON"), e.getMessage());
        assertEquals(List.of(), List.of());
    }
}
