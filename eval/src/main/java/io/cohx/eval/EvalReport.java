package io.cohx.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.cohx.models.checkpoint.AtomicFiles;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The result of one {@code cohx eval} task: what ran (task, model or checkpoint, every setting,
 * the exact prompt templates), the metrics with their 95% intervals, and optionally the
 * per-example scores. It is written as JSON (atomically: a half-written result never replaces a
 * good one) and printed as a small table.
 *
 * @param percent  metric names whose values are proportions (printed as percentages)
 * @param examples per-example records (may be empty), kept in the JSON for inspection
 */
public record EvalReport(String task, String model, Map<String, Object> settings, Map<String, Object> prompts,
                         Map<String, Estimate> metrics, List<String> percent, Map<String, Object> counts, List<?> examples) {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public EvalReport {
        settings = new LinkedHashMap<>(settings);
        prompts = new LinkedHashMap<>(prompts);
        metrics = new LinkedHashMap<>(metrics);
        percent = List.copyOf(percent);
        counts = new LinkedHashMap<>(counts);
        examples = List.copyOf(examples);
    }

    /** The JSON object, in a fixed key order. */
    public Map<String, Object> toJson() {
        var m = new LinkedHashMap<String, Object>();
        m.put("task", task);
        m.put("model", model);
        m.put("created", Instant.now().toString());
        m.put("metrics", metrics);
        m.put("interval", "95% confidence interval; method per metric: wilson = binomial score interval, bootstrap = percentile "
                + "bootstrap over examples (" + Intervals.BOOTSTRAP_RESAMPLES + " resamples, seed " + Intervals.BOOTSTRAP_SEED
                + "), normal = value +- 1.96 standard errors");
        m.put("counts", counts);
        m.put("settings", settings);
        m.put("prompts", prompts);
        if (!examples.isEmpty()) {
            m.put("examples", examples);
        }
        return m;
    }

    /** Writes the JSON to {@code file} (temp file, fsync, rename). */
    public void write(Path file) {
        try {
            AtomicFiles.writeString(file, JSON.writeValueAsString(toJson()) + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new EvalException("cannot write the result as JSON: " + e.getMessage(), e);
        }
    }

    /** A readable table: one line per metric, then the counts. */
    public void print(PrintStream out) {
        out.println(task + " — " + model);
        int width = metrics.keySet().stream().mapToInt(String::length).max().orElse(6);
        out.printf("  %-" + width + "s  %-28s %s%n", "metric", "value [95% CI]", "n / interval");
        for (var e : metrics.entrySet()) {
            Estimate v = e.getValue();
            out.printf("  %-" + width + "s  %-28s %d / %s%n", e.getKey(), v.format(percent.contains(e.getKey())), v.n(), v.method());
        }
        if (!counts.isEmpty()) {
            var sb = new StringBuilder("  ");
            counts.forEach((k, v) -> sb.append(sb.length() > 2 ? ", " : "").append(k).append(' ').append(v));
            out.println(sb);
        }
    }
}
