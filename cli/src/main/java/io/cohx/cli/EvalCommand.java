package io.cohx.cli;

import io.cohx.coh.data.SampleData;
import io.cohx.coh.train.ServedModel;
import io.cohx.eval.DialogueEval;
import io.cohx.eval.EvalModel;
import io.cohx.eval.EvalReport;
import io.cohx.eval.LmEval;
import io.cohx.eval.LossEval;
import io.cohx.eval.PairSplit;
import io.cohx.eval.PythonEnv;
import io.cohx.eval.SequenceScorer;
import io.cohx.eval.SummaryEval;
import io.cohx.eval.human.HumanEvalServer;
import io.cohx.eval.human.HumanItems;
import io.cohx.eval.human.HumanResults;
import io.cohx.eval.human.VoteStore;
import io.cohx.models.checkpoint.AtomicFiles;
import io.cohx.pjrt.PjrtClient;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code cohx eval}: the evaluations of a trained model (docs/EVALUATION.md). Each model task
 * prints a table to stdout, progress to stderr, and writes a JSON result ({@code --output}).
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a model: dialogue preference accuracy, summary ROUGE, loss/perplexity, lm-evaluation-harness tasks, "
                + "and pairwise human evaluation (docs/EVALUATION.md).",
        subcommands = {
            EvalCommand.Dialogue.class,
            EvalCommand.Summary.class,
            EvalCommand.Loss.class,
            EvalCommand.LmEvalTasks.class,
            EvalCommand.Human.class,
            EvalCommand.HumanResultsCommand.class,
            EvalCommand.Split.class,
        })
final class EvalCommand implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** Which model to evaluate, on which platform, at which dtype. */
    static final class ModelFlags {
        @Mixin
        ModelOptions model;
        @Mixin
        PlatformOptions platform;
        @Option(names = "--dtype", defaultValue = "fp32", description = "Compute dtype: fp32, bf16, fp16 (default: ${DEFAULT-VALUE}).")
        String dtype;

        EvalModel open(PjrtClient client) {
            ServedModel m = model.load(client);
            return new EvalModel(m.model(), m.params(), model.tokenizer(m), client, EvalModel.dtype(dtype), m.source());
        }
    }

    /** Writes {@code {"results": [...]}} and prints each report. */
    static void finish(List<EvalReport> reports, Path output) {
        var out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        for (EvalReport r : reports) {
            r.print(out);
        }
        var json = new LinkedHashMap<String, Object>();
        json.put("results", reports.stream().map(EvalReport::toJson).toList());
        try {
            Path parent = output.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            AtomicFiles.writeString(output, new com.fasterxml.jackson.databind.ObjectMapper()
                    .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(json) + "\n");
        } catch (IOException e) {
            throw new CohxUserError("cannot write " + output + ": " + e.getMessage(), e);
        }
        System.err.println("cohx eval: wrote " + output);
    }

    /** {@code sample} names the built-in test pairs (40 HH-format dialogues), copied to a temp file. */
    static Path data(String spec) {
        if (!spec.equals("sample")) {
            return Path.of(spec);
        }
        try (InputStream in = SampleData.open(SampleData.FEEDBACK_TEST)) {
            Path tmp = Files.createTempFile("cohx-sample-pairs", ".jsonl.gz");
            tmp.toFile().deleteOnExit();
            Files.write(tmp, in.readAllBytes());
            return tmp;
        } catch (IOException e) {
            throw new CohxUserError("cannot copy the built-in sample pairs: " + e.getMessage(), e);
        }
    }

    @Command(name = "dialogue", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Dialogue preference accuracy on HH-RLHF-style pairs (chosen/rejected): the share of pairs whose chosen "
                    + "dialogue scores higher, with a Wilson 95% interval.")
    static final class Dialogue implements Callable<Integer> {
        @Option(names = "--data", required = true, paramLabel = "FILE|sample",
                description = "JSON lines with 'chosen' and 'rejected' (plain or .gz), or 'sample' for the 40 built-in test pairs.")
        String data;
        @Option(names = "--method", defaultValue = "both", description = "template, coh or both (default: ${DEFAULT-VALUE}).")
        String method;
        @Option(names = "--template", defaultValue = DialogueEval.Settings.TEMPLATE,
                description = "Classification prefix; {dialogue} is replaced (default: '${DEFAULT-VALUE}').")
        String template;
        @Option(names = "--good", defaultValue = " good", description = "Positive continuation of the template (default: '${DEFAULT-VALUE}').")
        String good;
        @Option(names = "--bad", defaultValue = " bad", description = "Negative continuation (default: '${DEFAULT-VALUE}').")
        String bad;
        @Option(names = "--user-marker", defaultValue = "User:", description = "CoH user marker (default: '${DEFAULT-VALUE}').")
        String userMarker;
        @Option(names = "--feedback", defaultValue = "A helpful answer:",
                description = "Positive feedback phrase the final answer is scored after (default: '${DEFAULT-VALUE}').")
        String feedback;
        @Option(names = "--seq-length", defaultValue = "512", description = "Longest scored sequence; longer keep their end (default: ${DEFAULT-VALUE}).")
        int seqLength;
        @Option(names = "--batch-size", defaultValue = "8", description = "Sequences per compiled batch (default: ${DEFAULT-VALUE}).")
        int batchSize;
        @Option(names = "--limit", defaultValue = "0", description = "Evaluate the first N pairs only; 0 = all (default: ${DEFAULT-VALUE}).")
        int limit;
        @Option(names = "--output", defaultValue = "eval-results/dialogue.json", description = "JSON result (default: ${DEFAULT-VALUE}).")
        Path output;
        @Mixin
        ModelFlags flags;

        @Override
        public Integer call() {
            List<DialogueEval.Method> methods = method.equals("both") ? List.of(DialogueEval.Method.TEMPLATE, DialogueEval.Method.COH)
                    : List.of(DialogueEval.Method.parse(method));
            Path file = data(data);
            var base = DialogueEval.Settings.defaults().withLengths(seqLength, batchSize, limit)
                    .withPrompts(template, good, bad, userMarker, feedback);
            try (PjrtClient client = flags.platform.client(1)) {
                EvalModel m = flags.open(client);
                List<EvalReport> reports = new ArrayList<>();
                try (var scorer = new SequenceScorer(m, seqLength, batchSize, System.err)) {
                    for (DialogueEval.Method me : methods) {
                        reports.add(DialogueEval.run(m, scorer, file, base.with(me), System.err));
                    }
                }
                finish(reports, output);
            }
            return 0;
        }
    }

    @Command(name = "summary", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Generate a summary of each post after the CoH positive prompt and score ROUGE-1/2/L F1 against the references.")
    static final class Summary implements Callable<Integer> {
        @Option(names = "--data", required = true, paramLabel = "FILE",
                description = "JSON lines {post, summary} (see --post-field/--reference-field) or summarize-from-feedback comparisons.")
        Path data;
        @Option(names = "--prompt-template", defaultValue = SummaryEval.Settings.TEMPLATE,
                description = "Prompt; {post} is replaced (default: '${DEFAULT-VALUE}').")
        String template;
        @Option(names = "--post-field", defaultValue = "post", description = "Key of the post (default: ${DEFAULT-VALUE}).")
        String postField;
        @Option(names = "--reference-field", defaultValue = "summary", description = "Key of the reference summary (default: ${DEFAULT-VALUE}).")
        String referenceField;
        @Option(names = "--input-length", defaultValue = "448", description = "Longest prompt in tokens; longer keep their end (default: ${DEFAULT-VALUE}).")
        int inputLength;
        @Option(names = "--max-new-tokens", defaultValue = "64", description = "Longest summary in tokens (default: ${DEFAULT-VALUE}).")
        int maxNewTokens;
        @Option(names = "--stop", paramLabel = "TEXT", description = "End a summary at this text; repeatable (eos always ends it).")
        List<String> stop = new ArrayList<>();
        @Option(names = "--batch-size", defaultValue = "4", description = "Posts generated together (default: ${DEFAULT-VALUE}).")
        int batchSize;
        @Option(names = "--limit", defaultValue = "0", description = "First N posts only; 0 = all (default: ${DEFAULT-VALUE}).")
        int limit;
        @Option(names = "--generations", paramLabel = "FILE", description = "Also write {prompt, output, reference} lines here (input for 'cohx eval human').")
        Path generations;
        @Option(names = "--output", defaultValue = "eval-results/summary.json", description = "JSON result (default: ${DEFAULT-VALUE}).")
        Path output;
        @Mixin
        ModelFlags flags;

        @Override
        public Integer call() {
            var s = new SummaryEval.Settings(template, postField, referenceField, inputLength, maxNewTokens, stop, batchSize, limit, generations);
            try (PjrtClient client = flags.platform.client(1)) {
                finish(List.of(SummaryEval.run(flags.open(client), data, s, System.err)), output);
            }
            return 0;
        }
    }

    @Command(name = "loss", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Loss and perplexity on a JSON-lines file: packed CoH records (answer tokens, as training) or plain text.")
    static final class Loss implements Callable<Integer> {
        @Option(names = "--data", required = true, paramLabel = "FILE", description = "A cohx pack output file, or JSON lines with text.")
        Path data;
        @Option(names = "--text-field", paramLabel = "KEY", description = "Score the text under KEY (default: packed records if they have "
                + "'fields', else 'text').")
        String textField;
        @Option(names = "--seq-length", defaultValue = "512", description = "Window length; longer records are read in rolling windows (default: ${DEFAULT-VALUE}).")
        int seqLength;
        @Option(names = "--batch-size", defaultValue = "8", description = "Windows per compiled batch (default: ${DEFAULT-VALUE}).")
        int batchSize;
        @Option(names = "--limit", defaultValue = "0", description = "First N records only; 0 = all (default: ${DEFAULT-VALUE}).")
        int limit;
        @Option(names = "--output", defaultValue = "eval-results/loss.json", description = "JSON result (default: ${DEFAULT-VALUE}).")
        Path output;
        @Mixin
        ModelFlags flags;

        @Override
        public Integer call() {
            try (PjrtClient client = flags.platform.client(1)) {
                finish(List.of(LossEval.run(flags.open(client), data, new LossEval.Settings(textField, seqLength, batchSize, limit),
                        System.err)), output);
            }
            return 0;
        }
    }

    @Command(name = "lm-eval", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Run lm-evaluation-harness tasks against the model, served by cohx in this process; lm-eval "
                    + PythonEnv.LM_EVAL_VERSION + " is installed into a cohx-managed Python environment on first use.")
    static final class LmEvalTasks implements Callable<Integer> {
        @Option(names = "--tasks", required = true, split = ",", paramLabel = "T1,T2", description = "lm-eval task names.")
        List<String> tasks;
        @Option(names = "--include-path", paramLabel = "DIR", description = "Folder of extra task YAML files; repeatable.")
        List<Path> includePaths = new ArrayList<>();
        @Option(names = "--api", defaultValue = "completions",
                description = "completions (local-completions: all request types) or chat (local-chat-completions: generation only) (default: ${DEFAULT-VALUE}).")
        String api;
        @Option(names = "--num-fewshot", defaultValue = "-1", description = "Few-shot examples; -1 = the task's default (default: ${DEFAULT-VALUE}).")
        int numFewshot;
        @Option(names = "--limit", defaultValue = "0", description = "Examples per task; 0 = all (default: ${DEFAULT-VALUE}).")
        int limit;
        @Option(names = "--concurrency", defaultValue = "4", description = "Requests lm-eval sends at once (default: ${DEFAULT-VALUE}).")
        int concurrency;
        @Option(names = "--input-length", defaultValue = "512", description = "Server: longest generation prompt (default: ${DEFAULT-VALUE}).")
        int inputLength;
        @Option(names = "--seq-length", defaultValue = "1024", description = "Server: longest scored sequence / prompt + generation (default: ${DEFAULT-VALUE}).")
        int seqLength;
        @Option(names = "--batch-size", defaultValue = "4", description = "Server: rows per compiled batch (default: ${DEFAULT-VALUE}).")
        int batchSize;
        @Option(names = "--lm-eval-output", defaultValue = "eval-results/lm-eval", description = "Where lm-eval writes results and samples (default: ${DEFAULT-VALUE}).")
        Path lmEvalOutput;
        @Option(names = "--output", defaultValue = "eval-results/lm-eval.json", description = "JSON result (default: ${DEFAULT-VALUE}).")
        Path output;
        @Mixin
        ModelFlags flags;

        @Override
        public Integer call() {
            var s = new LmEval.Settings(tasks, includePaths, api, numFewshot, limit, concurrency, inputLength, seqLength, batchSize, lmEvalOutput);
            try (PjrtClient client = flags.platform.client(1)) {
                finish(List.of(LmEval.run(flags.open(client), s, PythonEnv.standard(), System.err)), output);
            }
            return 0;
        }
    }

    @Command(name = "human", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Serve the pairwise human-evaluation page: raters see each prompt with two blinded answers and vote; votes "
                    + "are kept in --db and survive restarts.")
    static final class Human implements Callable<Integer> {
        @Option(names = "--a", required = true, paramLabel = "FILE", description = "Model A's outputs: JSON lines {prompt, output}.")
        Path a;
        @Option(names = "--b", required = true, paramLabel = "FILE", description = "Model B's outputs for the same prompts, same order.")
        Path b;
        @Option(names = "--name-a", description = "Model A's name (default: its file name).")
        String nameA;
        @Option(names = "--name-b", description = "Model B's name (default: its file name).")
        String nameB;
        @Option(names = "--db", defaultValue = "human-eval.sqlite", description = "SQLite file of items and votes (default: ${DEFAULT-VALUE}).")
        Path db;
        @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on; 0.0.0.0 for raters on other machines (default: ${DEFAULT-VALUE}).")
        String host;
        @Option(names = "--port", defaultValue = "5008", description = "Port (default: ${DEFAULT-VALUE}).")
        int port;

        @Override
        public Integer call() throws InterruptedException {
            HumanItems items = HumanItems.read(a, nameA != null ? nameA : HumanItems.nameOf(a), b, nameB != null ? nameB : HumanItems.nameOf(b));
            try (VoteStore store = VoteStore.open(db, items); HumanEvalServer server = HumanEvalServer.start(store, host, port)) {
                System.out.println("cohx eval human: " + items.items().size() + " items, " + store.votes().size() + " votes so far in " + db);
                System.out.println("cohx eval human: rate at " + server.uri() + " , results at " + server.uri().resolve("/results")
                        + " (Ctrl-C stops; votes are saved as they come)");
                Runtime.getRuntime().addShutdownHook(new Thread(server::close));
                server.join();
            }
            return 0;
        }
    }

    @Command(name = "human-results", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Win/tie/loss percentages per model from a human-evaluation database, with Wilson 95% intervals; CSV export.")
    static final class HumanResultsCommand implements Callable<Integer> {
        @Option(names = "--db", required = true, description = "The SQLite file 'cohx eval human' wrote.")
        Path db;
        @Option(names = "--csv", paramLabel = "FILE", description = "Write the table as CSV (one line per model).")
        Path csv;
        @Option(names = "--votes-csv", paramLabel = "FILE", description = "Write every vote as CSV.")
        Path votesCsv;

        @Override
        public Integer call() {
            try (VoteStore store = VoteStore.openExisting(db)) {
                HumanResults r = HumanResults.of(store);
                r.print(new PrintStream(System.out, true, StandardCharsets.UTF_8));
                if (csv != null) {
                    AtomicFiles.writeString(csv, r.csv());
                }
                if (votesCsv != null) {
                    AtomicFiles.writeString(votesCsv, HumanResults.votesCsv(store));
                }
            }
            return 0;
        }
    }

    @Command(name = "split", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Split an HH-RLHF-style file deterministically into train.jsonl and heldout.jsonl (pairs that open the same "
                    + "conversation stay together).")
    static final class Split implements Callable<Integer> {
        @Option(names = "--input", required = true, paramLabel = "FILE", description = "JSON lines with chosen/rejected (plain or .gz).")
        Path input;
        @Option(names = "--held-out", required = true, paramLabel = "N", description = "Records for the held-out set (at least N, whole groups).")
        int heldOut;
        @Option(names = "--seed", defaultValue = "0", description = "Seed of the split (default: ${DEFAULT-VALUE}).")
        long seed;
        @Option(names = "--output-dir", required = true, paramLabel = "DIR", description = "Where train.jsonl, heldout.jsonl and split.json go.")
        Path outputDir;

        @Override
        public Integer call() {
            PairSplit.Result r = PairSplit.split(input, heldOut, seed, outputDir);
            System.out.println("cohx eval split: " + r.trainRecords() + " train records -> " + r.train() + ", " + r.heldOutRecords()
                    + " held-out records -> " + r.heldOut());
            return 0;
        }
    }
}
