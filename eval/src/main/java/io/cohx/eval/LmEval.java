package io.cohx.eval;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * lm-evaluation-harness tasks on a cohx model: starts the model's server in this process
 * ({@link EvalServer}), runs {@code python -m lm_eval run --model local-completions} (or
 * {@code local-chat-completions}) from the cohx Python environment ({@link PythonEnv}) against
 * it, stops the server, and turns lm-eval's results file into an {@link EvalReport}. lm-eval
 * uses the server's own tokenizer ({@code /tokenize}), so nothing is downloaded for the model;
 * task data sets come from wherever the task says (the Hub, or local files with
 * {@code --include-path}).
 *
 * <p>Intervals: accuracy-like metrics ({@code acc}, {@code acc_norm}, {@code exact_match}) get a
 * Wilson interval from the value and the number of samples; other metrics get lm-eval's own
 * standard error as a normal interval, or none where lm-eval gives none (perplexities).
 */
public final class LmEval {
    private LmEval() {}

    static final Set<String> PROPORTIONS = Set.of("acc", "acc_norm", "exact_match");

    /**
     * @param api         "completions" (local-completions: every request type) or "chat" (local-chat-completions: generation only)
     * @param numFewshot  shots (-1: the task's default)
     * @param limit       examples per task (0: all)
     * @param outputDir   where lm-eval writes its results and samples
     */
    public record Settings(List<String> tasks, List<Path> includePaths, String api, int numFewshot, int limit, int concurrency,
                           int inputLength, int seqLength, int batchSize, Path outputDir) {
        public Settings {
            tasks = List.copyOf(tasks);
            includePaths = List.copyOf(includePaths);
            if (tasks.isEmpty()) {
                throw new EvalException("--tasks: name at least one lm-eval task");
            }
            if (!api.equals("completions") && !api.equals("chat")) {
                throw new EvalException("--api " + api + ": use completions or chat");
            }
        }
    }

    public static EvalReport run(EvalModel model, Settings s, PythonEnv env, PrintStream progress) {
        for (Path p : s.includePaths()) {
            if (!Files.isDirectory(p)) {
                throw new EvalException("--include-path " + p + ": no such folder (it should hold lm-eval task YAML files)");
            }
        }
        Path python = env.ensure(progress);
        Path out = s.outputDir().toAbsolutePath();
        List<String> cmd;
        long t0 = System.nanoTime();
        try (EvalServer server = EvalServer.start(model, s.inputLength(), s.seqLength(), s.batchSize(), progress)) {
            progress.println("cohx eval: model server on " + server.uri());
            boolean chat = s.api().equals("chat");
            String modelArgs = "base_url=" + (chat ? server.chatCompletions() : server.completions()) + ",model=cohx,num_concurrent="
                    + s.concurrency() + ",max_retries=3,max_length=" + s.seqLength() + (chat ? "" : ",tokenized_requests=True");
            cmd = new ArrayList<>(List.of(python.toString(), "-m", "lm_eval", "run", "--model", chat ? "local-chat-completions"
                    : "local-completions", "--model_args", modelArgs, "--tasks", String.join(",", s.tasks()), "--output_path",
                    out.toString(), "--log_samples", "--seed", "0"));
            for (Path p : s.includePaths()) {
                cmd.addAll(List.of("--include_path", p.toAbsolutePath().toString()));
            }
            if (s.numFewshot() >= 0) {
                cmd.addAll(List.of("--num_fewshot", Integer.toString(s.numFewshot())));
            }
            if (s.limit() > 0) {
                cmd.addAll(List.of("--limit", Integer.toString(s.limit())));
            }
            if (chat) {
                cmd.add("--apply_chat_template");
            }
            progress.println("cohx eval: " + String.join(" ", cmd));
            runLmEval(cmd, progress);
        }
        JsonNode results = readResults(out, t0);
        return report(model, s, cmd, results);
    }

    private static void runLmEval(List<String> cmd, PrintStream progress) {
        Process p;
        try {
            var pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("PYTHONUNBUFFERED", "1");
            p = pb.start();
        } catch (IOException e) {
            throw new EvalException("cannot start lm-eval: " + e.getMessage(), e);
        }
        List<String> tail = new ArrayList<>();
        try (var in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                progress.println("lm-eval: " + line);
                tail.add(line);
                if (tail.size() > 20) {
                    tail.removeFirst();
                }
            }
            if (p.waitFor() != 0) {
                throw new EvalException("lm-eval exited with " + p.exitValue() + "; its last lines:\n  " + String.join("\n  ", tail));
            }
        } catch (IOException e) {
            throw new EvalException("lost lm-eval's output: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new EvalException("interrupted while lm-eval ran");
        }
    }

    /** The newest {@code results_*.json} lm-eval wrote under {@code out} during this run. */
    static JsonNode readResults(Path out, long startedNanos) {
        try (Stream<Path> files = Files.walk(out)) {
            Path newest = files.filter(f -> f.getFileName().toString().startsWith("results_") && f.toString().endsWith(".json"))
                    .max(Comparator.comparing(f -> f.toFile().lastModified()))
                    .orElseThrow(() -> new EvalException("lm-eval wrote no results_*.json under " + out));
            return JsonLines.JSON.readTree(newest.toFile());
        } catch (IOException e) {
            throw new EvalException("cannot read lm-eval's results under " + out + ": " + e.getMessage(), e);
        }
    }

    /** Our report from lm-eval's results JSON: one metric per task and lm-eval metric ("task/metric"). */
    static EvalReport report(EvalModel model, Settings s, List<String> cmd, JsonNode results) {
        var metrics = new LinkedHashMap<String, Estimate>();
        List<String> percent = new ArrayList<>();
        Map<String, Object> counts = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = results.path("results").fields(); it.hasNext(); ) {
            var task = it.next();
            long n = results.path("n-samples").path(task.getKey()).path("effective").asLong(
                    task.getValue().path("sample_len").asLong(0));
            counts.put(task.getKey() + " samples", n);
            for (Iterator<Map.Entry<String, JsonNode>> m = task.getValue().fields(); m.hasNext(); ) {
                var e = m.next();
                String key = e.getKey();
                if (!e.getValue().isNumber() || key.contains("_stderr") || !key.contains(",")) {
                    continue;
                }
                String metric = key.substring(0, key.indexOf(','));
                String filter = key.substring(key.indexOf(',') + 1);
                String name = task.getKey() + "/" + metric + (filter.equals("none") ? "" : "," + filter);
                double value = e.getValue().doubleValue();
                JsonNode se = task.getValue().get(metric + "_stderr," + filter);
                Estimate est;
                if (PROPORTIONS.contains(metric) && n > 0) {
                    est = Intervals.wilson(Math.round(value * n), n);
                    percent.add(name);
                } else if (se != null && se.isNumber()) {
                    est = Intervals.normal(value, se.doubleValue(), n);
                } else {
                    est = new Estimate(value, Double.NaN, Double.NaN, "none (lm-eval gives no standard error)", n);
                }
                metrics.put(name, est);
            }
        }
        if (metrics.isEmpty()) {
            throw new EvalException("lm-eval's results have no metrics: " + results.path("results"));
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("tasks", s.tasks());
        settings.put("include_paths", s.includePaths().stream().map(Path::toString).toList());
        settings.put("lm_eval_version", PythonEnv.LM_EVAL_VERSION);
        settings.put("lm_eval_model", s.api().equals("chat") ? "local-chat-completions" : "local-completions");
        settings.put("num_fewshot", s.numFewshot() < 0 ? "task default" : s.numFewshot());
        settings.put("limit", s.limit());
        settings.put("concurrency", s.concurrency());
        settings.put("server_input_length", s.inputLength());
        settings.put("server_seq_length", s.seqLength());
        settings.put("server_batch_size", s.batchSize());
        settings.put("dtype", model.dtype().name().toLowerCase());
        settings.put("lm_eval_output", s.outputDir().toString());
        settings.put("command", String.join(" ", cmd));
        Map<String, Object> prompts = new LinkedHashMap<>();
        prompts.put("tasks", "prompts are the tasks' own (see configs in lm-eval's results file)");
        prompts.put("n_shot", results.path("n-shot"));
        return new EvalReport("lm-eval", model.source(), settings, prompts, metrics, percent, counts, List.of());
    }
}
