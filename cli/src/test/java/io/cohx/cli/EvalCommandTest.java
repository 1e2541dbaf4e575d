package io.cohx.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.coh.train.ServedModel;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.models.generate.Buckets;
import io.cohx.models.generate.Scorer;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.Tokenizers;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.cohx.cli.PluginsCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code cohx eval} through the real command line. The lm-eval test runs lm-evaluation-harness
 * for real: {@code cohx eval lm-eval} installs it into the cohx Python environment on first use
 * (~/.cache/cohx/python; one to a few minutes, then cached), serves a tiny random model in
 * process, and lm-eval scores two tiny local tasks through the OpenAI endpoints. Every
 * log-likelihood lm-eval got, and so its accuracy and perplexity, must equal what the model's
 * scorer gives for the same tokens, computed here directly.
 */
class EvalCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String[][] QUESTIONS = {
        {"What color is the sky on a clear day?", "blue", "green", "red", "0"},
        {"How many legs does a dog have?", "three", "four", "six", "1"},
        {"What do bees make?", "milk", "silk", "honey", "2"},
        {"Which animal says meow?", "cat", "cow", "duck", "0"},
        {"What is frozen water called?", "steam", "ice", "sand", "1"},
        {"Which planet do we live on?", "Mars", "Venus", "Earth", "2"},
    };

    @Test
    void lmEvalScoresTinyTasksThroughTheServerExactlyAsTheModelDoes(@TempDir Path dir) throws Exception {
        Path tasks = Files.createDirectories(dir.resolve("tasks"));
        var data = new StringBuilder();
        for (String[] q : QUESTIONS) {
            data.append(JSON.writeValueAsString(Map.of("question", q[0], "choices", List.of(q[1], q[2], q[3]),
                    "answer", Integer.parseInt(q[4]), "target", q[1 + Integer.parseInt(q[4])]))).append('\n');
        }
        Path jsonl = tasks.resolve("tiny.jsonl");
        Files.writeString(jsonl, data);
        String source = "dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: " + jsonl.toAbsolutePath() + "\ntest_split: test\n";
        Files.writeString(tasks.resolve("choice.yaml"), "task: cohx_t_choice\n" + source + "output_type: multiple_choice\n"
                + "doc_to_text: \"Question: {{question}}\\nAnswer:\"\ndoc_to_choice: \"{{choices}}\"\ndoc_to_target: \"{{answer}}\"\n"
                + "metric_list:\n  - metric: acc\n    aggregation: mean\n    higher_is_better: true\n");
        Files.writeString(tasks.resolve("rolling.yaml"), "task: cohx_t_rolling\n" + source + "output_type: loglikelihood_rolling\n"
                + "doc_to_text: \"\"\ndoc_to_target: \"{{question}} {{target}}.\"\n"
                + "metric_list:\n  - metric: word_perplexity\n");
        Path out = dir.resolve("lm-eval");
        Path result = dir.resolve("result.json");
        var r = run("eval", "lm-eval", "--tasks", "cohx_t_choice,cohx_t_rolling", "--include-path", tasks.toString(),
                "--update-model-config", GenerateCommandTest.TINY, "--tokenizer", "gpt2", "--input-length", "64", "--seq-length", "128",
                "--batch-size", "4", "--concurrency", "2", "--lm-eval-output", out.toString(), "--output", result.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("cohx_t_choice/acc"), r.out());

        // The same model, scored directly: lm-eval splits context and continuation as encode(ctx + cont) after encode(ctx),
        // sends the token ids without bos, and sums the continuation's log-probs.
        PjrtClient client = TestPlugins.cpuClient(1);
        ServedModel m = ServedModel.load(null, "llama", "debug", GenerateCommandTest.TINY, 42, client);
        Tokenizer tok = Tokenizers.load("gpt2");
        double[][] want = new double[QUESTIONS.length][3];
        int correct = 0;
        double rollingLl = 0;
        long words = 0;
        try (Scorer scorer = new Scorer(m.model(), m.params(), client, 4, Buckets.powersOfTwo(16, 128), DType.F32)) {
            List<Scorer.Row> rows = new ArrayList<>();
            for (String[] q : QUESTIONS) {
                String ctx = "Question: " + q[0] + "\nAnswer:";
                int[] c = tok.encode(ctx);
                for (int k = 1; k <= 3; k++) {
                    int[] whole = tok.encode(ctx + " " + q[k]);
                    rows.add(Scorer.Row.continuation(-1, c, Arrays.copyOfRange(whole, c.length, whole.length)));
                }
            }
            for (String[] q : QUESTIONS) {
                String text = q[0] + " " + q[1 + Integer.parseInt(q[4])] + ".";
                rows.add(Scorer.Row.continuation(-1, new int[] {tok.eosId()}, tok.encode(text)));
                words += text.split("\\s+").length;
            }
            List<Scorer.Scored> s = scorer.score(rows);
            for (int i = 0; i < QUESTIONS.length; i++) {
                int best = 0;
                for (int k = 0; k < 3; k++) {
                    want[i][k] = s.get(3 * i + k).logLikelihood();
                    best = want[i][k] > want[i][best] ? k : best;
                }
                correct += best == Integer.parseInt(QUESTIONS[i][4]) ? 1 : 0;
                rollingLl += s.get(3 * QUESTIONS.length + i).logLikelihood();
            }
        } finally {
            m.params().values().forEach(v -> ((DeviceArray) v).close());
        }
        // lm-eval's own per-sample records
        Path samples;
        try (Stream<Path> files = Files.walk(out)) {
            samples = files.filter(f -> f.getFileName().toString().startsWith("samples_cohx_t_choice")).findFirst().orElseThrow();
        }
        for (String line : Files.readAllLines(samples)) {
            JsonNode doc = JSON.readTree(line);
            int id = doc.get("doc_id").asInt();
            for (int k = 0; k < 3; k++) {
                assertEquals(want[id][k], doc.get("filtered_resps").get(k).get(0).asDouble(), 1e-3,
                        "log-likelihood of choice " + k + " of question " + id);
            }
        }
        JsonNode metrics = JSON.readTree(result.toFile()).get("results").get(0).get("metrics");
        JsonNode acc = metrics.get("cohx_t_choice/acc");
        assertEquals((double) correct / QUESTIONS.length, acc.get("value").asDouble(), 1e-12);
        assertEquals("wilson", acc.get("method").asText());
        assertTrue(acc.get("low").asDouble() <= acc.get("value").asDouble() && acc.get("value").asDouble() <= acc.get("high").asDouble());
        double ppl = metrics.get("cohx_t_rolling/word_perplexity").get("value").asDouble();
        assertEquals(Math.exp(-rollingLl / words), ppl, 1e-3 * ppl, "word perplexity from the rolling log-likelihoods");
    }

    @Test
    void dialogueOnTheSamplePairsWritesAResultWithIntervals(@TempDir Path dir) throws Exception {
        Path result = dir.resolve("d.json");
        var r = run("eval", "dialogue", "--data", "sample", "--limit", "6", "--seq-length", "128", "--update-model-config",
                GenerateCommandTest.TINY, "--tokenizer", "gpt2", "--output", result.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("dialogue accuracy (template)") && r.out().contains("dialogue accuracy (coh)"), r.out());
        JsonNode res = JSON.readTree(result.toFile()).get("results");
        assertEquals(2, res.size());
        for (JsonNode one : res) {
            JsonNode acc = one.get("metrics").get("accuracy");
            assertEquals(6, acc.get("n").asInt());
            assertTrue(acc.get("low").asDouble() <= acc.get("value").asDouble());
            assertTrue(one.get("model").asText().startsWith("random weights"));
        }
        assertEquals("The following is a dialogue: {dialogue}. This dialogue is", res.get(0).get("prompts").get("template").asText());
    }

    @Test
    void humanResultsPrintsTheTableAndExportsCsv(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("coh.jsonl"), "{\"prompt\": \"p1\", \"output\": \"a1\"}\n{\"prompt\": \"p2\", \"output\": \"a2\"}\n");
        Files.writeString(dir.resolve("sft.jsonl"), "{\"prompt\": \"p1\", \"output\": \"b1\"}\n{\"prompt\": \"p2\", \"output\": \"b2\"}\n");
        var items = io.cohx.eval.human.HumanItems.read(dir.resolve("coh.jsonl"), "coh", dir.resolve("sft.jsonl"), "sft");
        Path db = dir.resolve("v.sqlite");
        try (var store = io.cohx.eval.human.VoteStore.open(db, items)) {
            // ann prefers coh on item 1 and ties on 2; bob prefers sft on item 1
            store.vote("ann", 1, store.firstFor("ann", 1).equals("a") ? io.cohx.eval.human.VoteStore.Choice.FIRST
                    : io.cohx.eval.human.VoteStore.Choice.SECOND);
            store.vote("ann", 2, io.cohx.eval.human.VoteStore.Choice.TIE);
            store.vote("bob", 1, store.firstFor("bob", 1).equals("b") ? io.cohx.eval.human.VoteStore.Choice.FIRST
                    : io.cohx.eval.human.VoteStore.Choice.SECOND);
        }
        var r = run("eval", "human-results", "--db", db.toString(), "--csv", dir.resolve("t.csv").toString(),
                "--votes-csv", dir.resolve("v.csv").toString());
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("3 votes from 2 raters"), r.out());
        assertTrue(r.out().matches("(?s).*coh\\s+33\\.3% \\[.*33\\.3% \\[.*33\\.3% \\[.*"), r.out());
        List<String> table = Files.readAllLines(dir.resolve("t.csv"));
        assertEquals(3, table.size());
        assertTrue(table.get(1).startsWith("coh,3,0.3333333333333333,"), table.get(1));
        List<String> votes = Files.readAllLines(dir.resolve("v.csv"));
        assertEquals(4, votes.size());
        assertTrue(votes.get(1).startsWith("ann,1,coh,") && votes.get(3).startsWith("bob,1,sft,"), votes.toString());
    }

    @Test
    void badInputIsOneClearLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("x.jsonl");
        Files.writeString(f, "{\"chosen\": \"a\"}\n");
        var r = run("eval", "dialogue", "--data", f.toString(), "--tokenizer", "gpt2", "--update-model-config", GenerateCommandTest.TINY);
        assertEquals(2, r.rc());
        assertTrue(r.err().contains("x.jsonl:1: no field 'rejected'"), r.err());
        r = run("eval", "human-results", "--db", dir.resolve("none.sqlite").toString());
        assertEquals(2, r.rc());
        assertTrue(r.err().contains("no such vote database"), r.err());
    }
}
