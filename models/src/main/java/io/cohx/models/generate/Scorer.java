package io.cohx.models.generate;

import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.models.CausalLm;
import io.cohx.models.ForwardOptions;
import io.cohx.pjrt.PjrtClient;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Log-likelihoods of token sequences under the model (the server's {@code /loglikelihood},
 * {@code /loglikelihood-rolling} and the OpenAI {@code echo}/{@code logprobs}), batched: rows are
 * right-padded to the smallest compiled length (padding never changes earlier positions under the
 * causal mask) and run {@code batchSize} at a time. For each position the program returns the
 * target's log-probability and the argmax token with its log-probability, so callers get sums,
 * the is-greedy flag and per-token details from one pass.
 */
public final class Scorer implements AutoCloseable {
    private final Tree<Object> params;
    private final int batchSize;
    private final Buckets lengths;
    private final Jit jit;

    /**
     * One sequence to score: the model reads {@code inputs} and is scored on predicting
     * {@code targets} (same length; usually the inputs shifted by one) where {@code mask} is true.
     */
    public record Row(int[] inputs, int[] targets, boolean[] mask) {
        public Row {
            if (inputs.length != targets.length || inputs.length != mask.length || inputs.length == 0) {
                throw new IllegalArgumentException("inputs, targets and mask need the same length >= 1, got " + inputs.length + ", "
                        + targets.length + " and " + mask.length);
            }
        }

        /**
         * {@code text} given {@code prefix}: the model reads {@code [bos] + prefix + text} (bos
         * left out when {@code bos < 0}, and then the first token is not scored), and is scored on
         * the text tokens only.
         */
        public static Row continuation(int bos, int[] prefix, int[] text) {
            int[] all = concat(prefix, text);
            int[] in = bos >= 0 ? concat(new int[] {bos}, Arrays.copyOf(all, all.length - 1)) : Arrays.copyOf(all, all.length - 1);
            int[] target = bos >= 0 ? all : Arrays.copyOfRange(all, 1, all.length);
            int offset = bos >= 0 ? 0 : 1;
            boolean[] m = new boolean[target.length];
            for (int i = 0; i < m.length; i++) {
                m[i] = i + offset >= prefix.length;
            }
            return new Row(in, target, m);
        }

        /** Every token after the first, given the ones before it (OpenAI {@code echo}): token i is scored at position i-1. */
        public static Row allButFirst(int[] tokens) {
            boolean[] m = new boolean[tokens.length - 1];
            Arrays.fill(m, true);
            return new Row(Arrays.copyOf(tokens, tokens.length - 1), Arrays.copyOfRange(tokens, 1, tokens.length), m);
        }
    }

    /** The scores of one row; the arrays have the row's length. */
    public record Scored(double logLikelihood, boolean greedy, float[] tokenLogprobs, int[] argmax, float[] argmaxLogprobs) {}

    public Scorer(CausalLm model, Tree<?> params, PjrtClient client, int batchSize, Buckets lengths, DType dtype) {
        this.params = Generator.upload(client, params);
        this.batchSize = batchSize;
        this.lengths = lengths;
        ForwardOptions options = ForwardOptions.EVAL.withDtype(dtype);
        this.jit = Jit.builder("score", t -> {
            Tensor lp = model.logits(t.subtree("params"), t.get("inputs"), options).logSoftmax(2);
            Tensor target = io.cohx.engine.Indexing.takeAlongAxis(lp, t.get("targets").expandDims(2), 2).squeeze(2);
            Tensor best = lp.argmax(2);
            Tensor bestLp = io.cohx.engine.Indexing.takeAlongAxis(lp, best.expandDims(2), 2).squeeze(2);
            return Tree.of("logprob", target, "argmax", best, "argmax_logprob", bestLp);
        }).build(client);
    }

    /** The longest row this scorer takes. */
    public int maxLength() {
        return lengths.max();
    }

    /** Compiles the programs for every length now. */
    public void warmUp() {
        for (int n : lengths.sizes()) {
            score(List.of(new Row(new int[n], new int[n], new boolean[n])));
        }
    }

    /** Scores any number of rows, in batches. */
    public List<Scored> score(List<Row> rows) {
        for (Row r : rows) {
            if (r.inputs().length > lengths.max()) {
                throw new IllegalArgumentException("a sequence of " + r.inputs().length + " tokens exceeds the longest scored length "
                        + lengths.max() + " (seq_length)");
            }
        }
        List<Scored> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i += batchSize) {
            out.addAll(batch(rows.subList(i, Math.min(rows.size(), i + batchSize))));
        }
        return out;
    }

    private List<Scored> batch(List<Row> rows) {
        int width = lengths.fit(rows.stream().mapToInt(r -> r.inputs().length).max().orElseThrow());
        int[] in = new int[batchSize * width];
        int[] tg = new int[batchSize * width];
        for (int b = 0; b < rows.size(); b++) {
            System.arraycopy(rows.get(b).inputs(), 0, in, b * width, rows.get(b).inputs().length);
            System.arraycopy(rows.get(b).targets(), 0, tg, b * width, rows.get(b).targets().length);
        }
        Tree<Object> inputs = Tree.<Object>empty().nest("params", params)
                .with("inputs", NdArray.of(in, batchSize, width)).with("targets", NdArray.of(tg, batchSize, width));
        Tree<DeviceArray> res = jit.call(inputs);
        float[] lp;
        int[] best;
        float[] bestLp;
        try (DeviceArray a = res.get("logprob"); DeviceArray b = res.get("argmax"); DeviceArray c = res.get("argmax_logprob")) {
            lp = a.toHost().toFloatArray();
            best = b.toHost().toIntArray();
            bestLp = c.toHost().toFloatArray();
        }
        List<Scored> out = new ArrayList<>();
        for (int b = 0; b < rows.size(); b++) {
            Row r = rows.get(b);
            int n = r.inputs().length;
            double sum = 0;
            boolean greedy = true;
            for (int i = 0; i < n; i++) {
                if (r.mask()[i]) {
                    sum += lp[b * width + i];
                    greedy &= best[b * width + i] == r.targets()[i];
                }
            }
            out.add(new Scored(sum, greedy, Arrays.copyOfRange(lp, b * width, b * width + n),
                    Arrays.copyOfRange(best, b * width, b * width + n), Arrays.copyOfRange(bestLp, b * width, b * width + n)));
        }
        return out;
    }

    /**
     * The windows the original server scores a long text with (docs/SERVING.md#endpoints): the model reads
     * {@code [bos] + tokens[:-1]} and predicts {@code tokens}, in consecutive windows of
     * {@code window} positions; the last window is moved back to end at the text's end and only
     * its positions not scored before count. Every token is scored exactly once.
     */
    public static List<Row> rolling(int bos, int[] tokens, int window) {
        int n = tokens.length;
        int[] in = new int[n];
        in[0] = Math.max(bos, 0);
        System.arraycopy(tokens, 0, in, 1, n - 1);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i += window) {
            int from = i + window > n ? Math.max(0, n - window) : i;
            int to = Math.min(n, from + window);
            boolean[] m = new boolean[to - from];
            for (int j = 0; j < m.length; j++) {
                m[j] = from + j >= i;
            }
            rows.add(new Row(Arrays.copyOfRange(in, from, to), Arrays.copyOfRange(tokens, from, to), m));
        }
        return rows;
    }

    static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Override
    public void close() {
        jit.close();
    }
}
