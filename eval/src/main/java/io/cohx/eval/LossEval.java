package io.cohx.eval;

import io.cohx.coh.data.DataException;
import io.cohx.coh.data.TextProcessor;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loss and perplexity of a model on a JSON-lines file, without training: a packed CoH file
 * (records with {@code fields}, as {@code cohx pack} writes them: only the answer tokens count,
 * as in the CoH loss) or plain text under a key ({@code {"text": ...}}: every token and the
 * closing eos count, as the pretraining loss). Each record goes through the trainer's
 * {@link TextProcessor}; the model reads {@code [bos] + tokens[:-1]}, and records longer than
 * {@code seqLength} are read in rolling windows so every token is scored once.
 *
 * <p>{@code loss} is the mean of {@code -log p(token)} over all counted tokens (each token weighs
 * the same; the trainer's per-batch loss instead averages per row first), {@code perplexity} is
 * {@code exp(loss)}; the interval is a bootstrap over records.
 */
public final class LossEval {
    private LossEval() {}

    /**
     * @param textField null: packed CoH records when they have {@code fields}, else plain text under {@code text}
     */
    public record Settings(String textField, int seqLength, int batchSize, int limit) {}

    public static EvalReport run(EvalModel model, Path file, Settings s, PrintStream progress) {
        try (var scorer = new SequenceScorer(model, s.seqLength(), s.batchSize(), progress)) {
            return run(model, scorer, file, s, progress);
        }
    }

    /** Runs on {@code scorer}, whose compiled programs several runs can share (its length wins over the settings'). */
    public static EvalReport run(EvalModel model, SequenceScorer scorer, Path file, Settings s, PrintStream progress) {
        List<JsonLines.Line> lines = JsonLines.read(file, s.limit());
        if (lines.isEmpty()) {
            throw new EvalException(file + ": no records");
        }
        TextProcessor.Config config;
        String kind;
        if (s.textField() != null) {
            config = TextProcessor.Config.text(s.textField());
            kind = "text under '" + s.textField() + "' (+ eos)";
        } else if (lines.getFirst().node().has("fields")) {
            config = TextProcessor.Config.feedback();
            kind = "packed CoH records (tokens with loss mask 1, as training)";
        } else if (lines.getFirst().node().has("text")) {
            config = TextProcessor.Config.text("text");
            kind = "text under 'text' (+ eos)";
        } else {
            throw new EvalException(file + ":" + lines.getFirst().number() + ": neither 'fields' (a packed CoH record) nor 'text';"
                    + " pass --text-field KEY for the key that holds the text");
        }
        var processor = new TextProcessor(model.tokenizer(), config);
        List<SequenceScorer.Sequence> seqs = new ArrayList<>(lines.size());
        long tokens = 0;
        for (JsonLines.Line l : lines) {
            TextProcessor.Encoded e;
            try {
                e = processor.encode(l.node());
            } catch (DataException ex) {
                throw new EvalException(file + ":" + l.number() + ": " + ex.getMessage(), ex);
            }
            boolean[] mask = new boolean[e.masks().length];
            for (int i = 0; i < mask.length; i++) {
                mask[i] = e.masks()[i] > 0;
            }
            seqs.add(new SequenceScorer.Sequence(e.tokens(), mask));
            tokens += e.tokens().length;
        }
        progress.printf("cohx eval: %d records, %d tokens from %s (%s)%n", seqs.size(), tokens, file, kind);
        List<SequenceScorer.Result> r = scorer.scoreWhole(seqs, "records");
        double[] nll = r.stream().mapToDouble(x -> -x.logLikelihood()).toArray();
        double[] counted = r.stream().mapToDouble(SequenceScorer.Result::tokens).toArray();
        Estimate loss = Intervals.bootstrapRatio(nll, counted);
        Estimate ppl = new Estimate(Math.exp(loss.value()), Math.exp(loss.low()), Math.exp(loss.high()), loss.method(), loss.n());
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("data", file.toString());
        settings.put("records", kind);
        settings.put("seq_length", scorer.seqLength());
        settings.put("batch_size", scorer.batchSize());
        settings.put("limit", s.limit());
        settings.put("dtype", model.dtype().name().toLowerCase());
        settings.put("bos_token", model.bos());
        settings.put("long_records", "rolling windows of seq_length; every token scored once");
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("records", seqs.size());
        counts.put("tokens", tokens);
        counts.put("scored_tokens", (long) java.util.Arrays.stream(counted).sum());
        Map<String, Object> prompts = Map.of("loss", "mean over scored tokens of -log p(token | [bos] + earlier tokens of its record)");
        var metrics = new LinkedHashMap<String, Estimate>();
        metrics.put("loss", loss);
        metrics.put("perplexity", ppl);
        return new EvalReport("loss", model.source(), settings, prompts, metrics, List.of(), counts, List.of());
    }
}
