package io.cohx.eval;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohx.models.generate.Buckets;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Sampling;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Summary quality: for each post the model generates a summary after the CoH positive prompt
 * (by default {@code "User: {post} A good summary:"}, greedy), and ROUGE-1/2/L F1 against the
 * reference summary ({@link Rouge}) are averaged over posts, with bootstrap intervals.
 *
 * <p>Records are {@code {"post": ..., "summary": ...}} (other keys with {@code --post-field},
 * {@code --reference-field}) or summarize-from-feedback comparisons ({@code info.post},
 * reference = {@code summaries[choice].text}), as {@code cohx pack --dataset summary} reads them.
 */
public final class SummaryEval {
    private SummaryEval() {}

    /**
     * @param template      the prompt, with {@code {post}} where the post goes
     * @param inputLength   longest prompt in tokens (longer prompts keep their end)
     * @param stop          texts that end a summary (not included), besides eos
     * @param generations   where to write {@code {"prompt", "output", "reference"}} lines (null: nowhere); the
     *                      file feeds {@code cohx eval human}
     */
    public record Settings(String template, String postField, String referenceField, int inputLength, int maxNewTokens,
                           List<String> stop, int batchSize, int limit, Path generations) {
        public static final String TEMPLATE = "User: {post} A good summary:";
    }

    /** One post's prompt and reference. */
    record Item(long line, String post, String reference) {}

    /** One post's outcome. */
    public record Scored(long line, String generated, String reference, double rouge1, double rouge2, double rougeL) {}

    static List<Item> read(Path file, Settings s) {
        List<Item> out = new ArrayList<>();
        for (JsonLines.Line l : JsonLines.read(file, s.limit())) {
            JsonNode n = l.node();
            if (n.has("info") && n.has("summaries") && !n.has(s.postField())) {
                JsonNode info = n.get("info");
                JsonNode post = info.hasNonNull("post") ? info.get("post") : info.get("article");
                int choice = n.path("choice").asInt(-1);
                JsonNode ref = n.get("summaries").path(choice).path("text");
                if (post == null || !post.isTextual() || !ref.isTextual()) {
                    throw new EvalException(file + ":" + l.number() + ": a summarize-from-feedback record needs info.post (or info.article),"
                            + " choice 0 or 1 and summaries[choice].text");
                }
                out.add(new Item(l.number(), post.textValue(), ref.textValue().strip()));
            } else {
                out.add(new Item(l.number(), l.text(file, s.postField()), l.text(file, s.referenceField())));
            }
        }
        if (out.isEmpty()) {
            throw new EvalException(file + ": no records");
        }
        return out;
    }

    public static EvalReport run(EvalModel model, Path file, Settings s, PrintStream progress) {
        if (!s.template().contains("{post}")) {
            throw new EvalException("--prompt-template '" + s.template() + "' has no {post}");
        }
        List<Item> items = read(file, s);
        int cache = s.inputLength() + s.maxNewTokens();
        if (cache > model.model().config().maxPositions()) {
            throw new EvalException("--input-length " + s.inputLength() + " + --max-new-tokens " + s.maxNewTokens() + " exceeds the model's "
                    + model.model().config().maxPositions() + " positions");
        }
        progress.printf("cohx eval: %d posts from %s%n", items.size(), file);
        List<Scored> scored = new ArrayList<>();
        List<Map<String, Object>> gens = new ArrayList<>();
        long t0 = System.nanoTime();
        try (var gen = new Generator(model.model(), model.params(), model.tokenizer(), model.client(), s.batchSize(), cache,
                Buckets.powersOfTwo(Math.min(16, s.inputLength()), s.inputLength()), model.dtype())) {
            for (int i = 0; i < items.size(); i += s.batchSize()) {
                List<Item> part = items.subList(i, Math.min(items.size(), i + s.batchSize()));
                List<Generator.Request> rows = new ArrayList<>();
                for (Item it : part) {
                    rows.add(new Generator.Request(prompt(model, s, it.post()), s.maxNewTokens(), Sampling.GREEDY, s.stop(), null));
                }
                List<Generator.Result> res = gen.generate(rows);
                for (int k = 0; k < part.size(); k++) {
                    Item it = part.get(k);
                    String out = res.get(k).text().strip();
                    Rouge.Scores r = Rouge.score(it.reference(), out);
                    scored.add(new Scored(it.line(), out, it.reference(), r.rouge1().f1(), r.rouge2().f1(), r.rougeL().f1()));
                    var g = new LinkedHashMap<String, Object>();
                    g.put("prompt", s.template().replace("{post}", it.post()));
                    g.put("output", out);
                    g.put("reference", it.reference());
                    gens.add(g);
                }
                progress.printf("cohx eval: summarized %d/%d posts (%.1f s)%n", scored.size(), items.size(), (System.nanoTime() - t0) / 1e9);
            }
        }
        if (s.generations() != null) {
            var sb = new StringBuilder();
            try {
                for (var g : gens) {
                    sb.append(JsonLines.JSON.writeValueAsString(g)).append('\n');
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new EvalException("cannot write generations: " + e.getMessage(), e);
            }
            io.cohx.models.checkpoint.AtomicFiles.writeString(s.generations(), sb.toString());
        }
        var metrics = new LinkedHashMap<String, Estimate>();
        metrics.put("rouge1_f1", Intervals.bootstrapMean(scored, Scored::rouge1));
        metrics.put("rouge2_f1", Intervals.bootstrapMean(scored, Scored::rouge2));
        metrics.put("rougeL_f1", Intervals.bootstrapMean(scored, Scored::rougeL));
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("data", file.toString());
        settings.put("decoding", "greedy");
        settings.put("input_length", s.inputLength());
        settings.put("max_new_tokens", s.maxNewTokens());
        settings.put("stop", s.stop());
        settings.put("batch_size", s.batchSize());
        settings.put("limit", s.limit());
        settings.put("dtype", model.dtype().name().toLowerCase());
        settings.put("rouge", "rouge-score RougeScorer(['rouge1','rouge2','rougeL'], use_stemmer=False) semantics, F1");
        if (s.generations() != null) {
            settings.put("generations", s.generations().toString());
        }
        Map<String, Object> prompts = new LinkedHashMap<>();
        prompts.put("template", s.template());
        prompts.put("bos_token", model.bos());
        return new EvalReport("summary ROUGE", model.source(), settings, prompts, metrics, List.of("rouge1_f1", "rouge2_f1", "rougeL_f1"),
                Map.of("posts", scored.size()), scored);
    }

    /** {@code [bos] + tokens(template with the post)}, keeping the last inputLength tokens. */
    static int[] prompt(EvalModel m, Settings s, String post) {
        int[] t = m.tokenizer().encode(s.template().replace("{post}", post));
        int keep = Math.min(t.length, s.inputLength() - 1);
        int[] out = new int[keep + 1];
        out[0] = m.bos();
        System.arraycopy(t, t.length - keep, out, 1, keep);
        return Arrays.copyOf(out, out.length);
    }
}
