package io.cohx.eval;

import io.cohx.models.generate.Buckets;
import io.cohx.models.generate.Scorer;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Log-likelihoods of token sequences under an {@link EvalModel}, the way training sees them: the
 * model reads {@code [bos] + tokens[:-1]} and predicts {@code tokens}; the score of a sequence is
 * the sum of {@code log p(token)} over the tokens whose mask is set. Sequences longer than
 * {@code seqLength} keep their last {@code seqLength} tokens (the scored answer sits at the end).
 * Runs on {@link Scorer} in batches of {@code batchSize}, printing progress to {@code progress}.
 */
public final class SequenceScorer implements AutoCloseable {
    private final EvalModel model;
    private final int seqLength;
    private final int batchSize;
    private final Scorer scorer;
    private final PrintStream progress;

    /** A sequence and which of its tokens are scored. */
    public record Sequence(int[] tokens, boolean[] mask) {
        public Sequence {
            if (tokens.length != mask.length || tokens.length == 0) {
                throw new IllegalArgumentException("tokens and mask need the same length >= 1");
            }
        }

        /** {@code prefix} then {@code text}: only the text is scored. */
        public static Sequence continuation(int[] prefix, int[] text) {
            int[] t = Arrays.copyOf(prefix, prefix.length + text.length);
            System.arraycopy(text, 0, t, prefix.length, text.length);
            boolean[] m = new boolean[t.length];
            Arrays.fill(m, prefix.length, t.length, true);
            return new Sequence(t, m);
        }
    }

    /** One scored sequence: the summed log-likelihood, how many tokens it covers, whether all were the argmax, and whether it was cut. */
    public record Result(double logLikelihood, int tokens, boolean greedy, boolean truncated) {}

    public SequenceScorer(EvalModel model, int seqLength, int batchSize, PrintStream progress) {
        if (seqLength > model.model().config().maxPositions()) {
            throw new EvalException("--seq-length " + seqLength + " exceeds the model's " + model.model().config().maxPositions() + " positions");
        }
        if (seqLength < 2 || batchSize < 1) {
            throw new EvalException("--seq-length must be >= 2 and --batch-size >= 1, got " + seqLength + " and " + batchSize);
        }
        this.model = model;
        this.seqLength = seqLength;
        this.batchSize = batchSize;
        this.progress = progress;
        this.scorer = new Scorer(model.model(), model.params(), model.client(), batchSize,
                Buckets.powersOfTwo(Math.min(16, seqLength), seqLength), model.dtype());
    }

    public int seqLength() {
        return seqLength;
    }

    public int batchSize() {
        return batchSize;
    }

    /**
     * Scores every sequence; {@code what} names them in the progress lines. A sequence longer
     * than {@code seqLength} keeps its last {@code seqLength} tokens.
     */
    public List<Result> score(List<Sequence> sequences, String what) {
        return run(sequences, what, false);
    }

    /**
     * Scores every token of every sequence, however long: a long sequence is read in windows of
     * {@code seqLength} positions, the last one moved back to end at the sequence's end, and each
     * position is scored once, in the first window that holds it (the server's rolling windows).
     */
    public List<Result> scoreWhole(List<Sequence> sequences, String what) {
        return run(sequences, what, true);
    }

    private List<Result> run(List<Sequence> sequences, String what, boolean whole) {
        List<Scorer.Row> rows = new ArrayList<>();
        int[] owner = new int[16];
        for (int i = 0; i < sequences.size(); i++) {
            List<Scorer.Row> mine = whole ? windows(sequences.get(i)) : List.of(row(sequences.get(i)));
            for (Scorer.Row r : mine) {
                if (rows.size() == owner.length) {
                    owner = Arrays.copyOf(owner, owner.length * 2);
                }
                owner[rows.size()] = i;
                rows.add(r);
            }
        }
        double[] ll = new double[sequences.size()];
        int[] count = new int[sequences.size()];
        boolean[] greedy = new boolean[sequences.size()];
        Arrays.fill(greedy, true);
        int chunk = 64;
        long t0 = System.nanoTime();
        for (int i = 0; i < rows.size(); i += chunk) {
            List<Scorer.Row> part = rows.subList(i, Math.min(rows.size(), i + chunk));
            List<Scorer.Scored> scored = scorer.score(part);
            for (int k = 0; k < scored.size(); k++) {
                int o = owner[i + k];
                for (boolean b : part.get(k).mask()) {
                    count[o] += b ? 1 : 0;
                }
                ll[o] += scored.get(k).logLikelihood();
                greedy[o] &= scored.get(k).greedy();
            }
            int done = i + part.size();
            progress.printf("cohx eval: scored %d/%d %s (%.1f s)%n", done == rows.size() ? sequences.size() : owner[done],
                    sequences.size(), what, (System.nanoTime() - t0) / 1e9);
        }
        List<Result> out = new ArrayList<>(sequences.size());
        for (int i = 0; i < sequences.size(); i++) {
            out.add(new Result(ll[i], count[i], greedy[i], !whole && sequences.get(i).tokens().length > seqLength));
        }
        return out;
    }

    /** The scorer's row of one sequence: inputs {@code [bos] + tokens[:-1]}, targets {@code tokens}, cut to the last seqLength. */
    Scorer.Row row(Sequence s) {
        int n = s.tokens().length;
        int[] in = shifted(s);
        int from = Math.max(0, n - seqLength);
        return new Scorer.Row(Arrays.copyOfRange(in, from, n), Arrays.copyOfRange(s.tokens(), from, n),
                Arrays.copyOfRange(s.mask(), from, n));
    }

    /** Rolling windows over a whole sequence; each position scored once (where its mask is set). */
    List<Scorer.Row> windows(Sequence s) {
        int n = s.tokens().length;
        int[] in = shifted(s);
        List<Scorer.Row> out = new ArrayList<>();
        for (int i = 0; i < n; i += seqLength) {
            int from = i + seqLength > n ? Math.max(0, n - seqLength) : i;
            int to = Math.min(n, from + seqLength);
            boolean[] m = new boolean[to - from];
            for (int j = 0; j < m.length; j++) {
                m[j] = from + j >= i && s.mask()[from + j];
            }
            out.add(new Scorer.Row(Arrays.copyOfRange(in, from, to), Arrays.copyOfRange(s.tokens(), from, to), m));
        }
        return out;
    }

    private int[] shifted(Sequence s) {
        int[] in = new int[s.tokens().length];
        in[0] = model.bos();
        System.arraycopy(s.tokens(), 0, in, 1, in.length - 1);
        return in;
    }

    @Override
    public void close() {
        scorer.close();
    }
}
