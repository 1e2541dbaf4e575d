package io.cohx.models.generate;

import io.cohx.engine.ArrayType;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Rng;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.models.CausalLm;
import io.cohx.models.ForwardOptions;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.pjrt.PjrtClient;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Batched text generation with a KV cache on the device. One compiled program does both the
 * prefill (all prompt tokens at once) and each decode step (one token per row): it runs the
 * model over the new tokens, writes their keys and values into the cache, and samples the next
 * token of every row ({@link Sampler}); only {@code B} token ids and log-probs come back to the
 * host per step. The cache is donated to every call, so it is updated in place, and it is kept
 * from one batch to the next (see {@link io.cohx.models.KvCache} for why stale columns are harmless).
 *
 * <p>Shapes are fixed per generator: {@code batchSize} rows (short batches get idle rows) and a
 * cache of {@code cacheLength} columns; prompts are left-padded to the smallest of
 * {@code promptBuckets}. So a generator compiles one program per prompt bucket plus one decode
 * step. Not thread-safe: one batch at a time (the server's scheduler owns one).
 */
public final class Generator implements AutoCloseable {
    private final CausalLm model;
    private final Tree<Object> params;
    private final Tokenizer tokenizer;
    private final PjrtClient client;
    private final int batchSize;
    private final int cacheLength;
    private final Buckets promptBuckets;
    private final DType dtype;
    private final Jit step;
    private Tree<DeviceArray> cache;
    private final List<DeviceArray> owned = new ArrayList<>();

    /**
     * What to generate for one row. {@code stop} strings end the row (they are not part of the
     * text); {@code alternatives} is how many most likely tokens per step the caller wants to see
     * ({@link Token#top()}; 0 or 1 need no extra work); {@code endTokens} are ids that end the row
     * as the tokenizer's eos does (a chat template's end-of-turn token, which decodes to no text
     * and so cannot be a stop string).
     */
    public record Request(int[] prompt, int maxNewTokens, Sampling sampling, List<String> stop, Sink sink, int alternatives,
                          int[] endTokens) {
        public Request {
            if (prompt.length == 0) {
                throw new IllegalArgumentException("a prompt needs at least one token (add a bos token to an empty prompt)");
            }
            if (maxNewTokens < 0) {
                throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
            }
            if (alternatives < 0) {
                throw new IllegalArgumentException("alternatives must be >= 0, got " + alternatives);
            }
            stop = List.copyOf(stop);
            sink = sink == null ? Sink.NONE : sink;
            endTokens = endTokens == null ? new int[0] : endTokens.clone();
        }

        public Request(int[] prompt, int maxNewTokens, Sampling sampling, List<String> stop, Sink sink, int alternatives) {
            this(prompt, maxNewTokens, sampling, stop, sink, alternatives, null);
        }

        public Request(int[] prompt, int maxNewTokens, Sampling sampling, List<String> stop, Sink sink) {
            this(prompt, maxNewTokens, sampling, stop, sink, 0);
        }

        public Request(int[] prompt, int maxNewTokens, Sampling sampling) {
            this(prompt, maxNewTokens, sampling, List.of(), Sink.NONE, 0);
        }

        /** The same request with its output going to {@code s}. */
        public Request withSink(Sink s) {
            return new Request(prompt, maxNewTokens, sampling, stop, s, alternatives, endTokens);
        }
    }

    /**
     * Receives a row's output as it is generated: for each token the text it made visible (may be
     * empty: text is held back while it could still become a stop string or a longer character)
     * and the token; at the end, any text still held with a null token. Returns false when nobody
     * wants more (the row is cancelled).
     */
    @FunctionalInterface
    public interface Sink {
        Sink NONE = (text, token) -> true;

        boolean accept(String text, Token token);
    }

    /**
     * What one row produced: tokens (without eos), their log-probs, the most likely tokens at each
     * step with their log-probs ({@code top[i][0]} is the greedy choice), the text (without the
     * stop string), and why it ended.
     */
    public record Result(int[] tokens, float[] logprobs, int[][] top, float[][] topLogprobs, String text, FinishReason finish) {}

    /**
     * @param params      the model's parameters (device arrays are used in place; host arrays are uploaded once)
     * @param tokenizer   turns tokens into text for stop strings and streaming; its eos ends a row
     */
    public Generator(CausalLm model, Tree<?> params, Tokenizer tokenizer, PjrtClient client, int batchSize, int cacheLength,
                     Buckets promptBuckets, DType dtype) {
        this(model, params, tokenizer, client, batchSize, cacheLength, promptBuckets, dtype, 1);
    }

    /** As above, reporting the {@code alternatives} most likely tokens at each step ({@link Result#top}). */
    public Generator(CausalLm model, Tree<?> params, Tokenizer tokenizer, PjrtClient client, int batchSize, int cacheLength,
                     Buckets promptBuckets, DType dtype, int alternatives) {
        if (promptBuckets.max() >= cacheLength) {
            throw new IllegalArgumentException("the longest prompt (" + promptBuckets.max() + ") must be shorter than the cache ("
                    + cacheLength + " tokens) to leave room for generated tokens");
        }
        if (cacheLength > model.config().maxPositions()) {
            throw new IllegalArgumentException("a cache of " + cacheLength + " tokens exceeds the model's " + model.config().maxPositions()
                    + " positions");
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.client = client;
        this.batchSize = batchSize;
        this.cacheLength = cacheLength;
        this.promptBuckets = promptBuckets;
        this.dtype = dtype;
        this.params = new ServingLayout(null, model, batchSize).place(client, params, owned);
        ForwardOptions options = ForwardOptions.EVAL.withDtype(dtype);
        this.step = Jit.builder("generate_step", t -> {
            CausalLm.Step s = model.decode(t.subtree("params"), t.subtree("cache"), t.get("tokens"), t.get("column"),
                    t.get("start"), options);
            // Rows are left-padded, so every row's next token comes from the last position: the head runs there alone.
            Tensor hidden = s.head().hidden();
            int b = hidden.dim(0);
            Tensor logits = s.head().on(hidden.slice(1, hidden.dim(1) - 1, hidden.dim(1))).logits();
            // Only ids the tokenizer knows may be picked (a model's vocabulary is often padded past it).
            int usable = tokenizer == null ? logits.dim(2) : tokenizer.vocabSize();
            Tensor last = logits.reshape(b, logits.dim(2)).slice(1, 0, usable);
            Sampler.Sample pick = Sampler.sample(last, t.get("temperature"), t.get("top_k"), t.get("top_p"), t.get("keys"), t.get("index"),
                    alternatives);
            return Tree.<Tensor>empty().nest("cache", s.cache()).with("next", pick.tokens()).with("logprob", pick.logprobs())
                    .with("top", pick.topTokens()).with("top_logprob", pick.topLogprobs());
        }).donate("cache").build(client);
    }

    public int batchSize() {
        return batchSize;
    }

    public int cacheLength() {
        return cacheLength;
    }

    public Buckets promptBuckets() {
        return promptBuckets;
    }

    /** Compiles the programs for every prompt bucket now (the server's pre_compile) by generating one token per bucket. */
    public void warmUp() {
        for (int p : promptBuckets.sizes()) {
            generate(List.of(new Request(new int[p], 1, Sampling.GREEDY)));
        }
    }

    /** Generates every row of {@code rows} (at most the batch size) together; blocks until all rows are done. */
    public List<Result> generate(List<Request> rows) {
        if (rows.isEmpty() || rows.size() > batchSize) {
            throw new IllegalArgumentException("a batch holds 1.." + batchSize + " rows, got " + rows.size());
        }
        int longest = rows.stream().mapToInt(r -> r.prompt().length).max().orElseThrow();
        if (longest > promptBuckets.max()) {
            throw new IllegalArgumentException("a prompt of " + longest + " tokens exceeds the longest compiled prompt length "
                    + promptBuckets.max());
        }
        int width = promptBuckets.fit(longest);
        List<Generation> state = new ArrayList<>();
        int[] tokens = new int[batchSize * width];
        int[] start = new int[batchSize];
        float[] temperature = new float[batchSize];
        int[] topK = new int[batchSize];
        float[] topP = new float[batchSize];
        double[] keys = new double[batchSize * 2];
        Arrays.fill(topP, 1);
        Arrays.fill(start, width - 1);
        for (int b = 0; b < rows.size(); b++) {
            Request r = rows.get(b);
            int n = r.prompt().length;
            System.arraycopy(r.prompt(), 0, tokens, b * width + width - n, n);
            start[b] = width - n;
            temperature[b] = (float) r.sampling().temperature();
            topK[b] = r.sampling().topK();
            topP[b] = (float) r.sampling().topP();
            NdArray key = Rng.keyData(r.sampling().seed());
            keys[2 * b] = key.get(0);
            keys[2 * b + 1] = key.get(1);
            state.add(new Generation(r, Math.min(r.maxNewTokens(), cacheLength - width), tokenizer));
        }
        Tree<Object> fixed = Tree.<Object>empty().nest("params", params)
                .with("start", NdArray.of(start, batchSize))
                .with("temperature", NdArray.of(temperature, batchSize))
                .with("top_k", NdArray.of(topK, batchSize))
                .with("top_p", NdArray.of(topP, batchSize))
                .with("keys", NdArray.of(DType.U32, keys, batchSize, 2));
        NdArray input = NdArray.of(tokens, batchSize, width);
        for (int column = 0, index = 0; column < cacheLength && state.stream().anyMatch(Generation::active); index++) {
            Tree<DeviceArray> out = call(fixed.with("tokens", input).with("column", NdArray.scalar(DType.S32, column))
                    .with("index", NdArray.scalar(DType.S32, index)));
            Token[] picked = tokens(out);
            int[] next = new int[batchSize];
            for (int b = 0; b < batchSize; b++) {
                next[b] = picked[b].id();
                if (b < state.size()) {
                    state.get(b).accept(picked[b]);
                }
            }
            column += input.shape().dim(1);
            input = NdArray.of(next, batchSize, 1);
        }
        List<Result> results = new ArrayList<>();
        for (Generation r : state) {
            results.add(r.result(FinishReason.LENGTH));
        }
        return results;
    }

    /** Reads a step's picked tokens and alternatives back to the host (closing the device arrays). */
    static Token[] tokens(Tree<DeviceArray> out) {
        try (DeviceArray n = out.get("next"); DeviceArray l = out.get("logprob"); DeviceArray t = out.get("top");
             DeviceArray tl = out.get("top_logprob")) {
            int[] next = n.toHost().toIntArray();
            float[] lp = l.toHost().toFloatArray();
            int[] top = t.toHost().toIntArray();
            float[] topLp = tl.toHost().toFloatArray();
            int k = top.length / next.length;
            Token[] r = new Token[next.length];
            for (int b = 0; b < r.length; b++) {
                r[b] = new Token(next[b], lp[b], Arrays.copyOfRange(top, b * k, (b + 1) * k), Arrays.copyOfRange(topLp, b * k, (b + 1) * k));
            }
            return r;
        }
    }

    private Tree<DeviceArray> call(Tree<Object> inputs) {
        if (cache == null || cache.values().stream().anyMatch(DeviceArray::isDeleted)) {
            if (cache != null) {
                cache.values().forEach(DeviceArray::close);
            }
            Tree<ArrayType> types = model.cacheTypes(batchSize, cacheLength, dtype);
            cache = types.map(t -> DeviceArray.put(client, NdArray.zeros(t)));
        }
        Tree<DeviceArray> out = step.call(inputs.nest("cache", cache));
        cache = out.subtree("cache");
        return out;
    }

    /** Frees the cache, the uploaded parameters and the compiled programs. */
    @Override
    public void close() {
        if (cache != null) {
            cache.values().forEach(DeviceArray::close);
        }
        step.close();
        owned.forEach(DeviceArray::close);
    }
}
