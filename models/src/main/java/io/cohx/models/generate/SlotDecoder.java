package io.cohx.models.generate;

import io.cohx.engine.Constants;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Rng;
import io.cohx.engine.Shape;
import io.cohx.engine.Shapes;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.engine.mesh.Mesh;
import io.cohx.models.CausalLm;
import io.cohx.models.ForwardOptions;
import io.cohx.pjrt.PjrtClient;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The device side of continuous (iteration-level) batching: a KV cache of a fixed number of
 * <b>slots</b>, each holding one row that moves at its own pace. A row's tokens start at column 0
 * of its slot, so its positions are its columns. Two compiled programs do all the work:
 * <ul>
 *   <li>{@link #prefill}: writes up to {@code chunk} prompt tokens of one slot into the cache (long
 *       prompts come in several chunks, so decoding of the other rows goes on in between) and picks
 *       the row's first token from the last one;</li>
 *   <li>{@link #decode}: one token for every slot at once, each at its own column, with its own
 *       sampling settings and its own token index for the sampler.</li>
 * </ul>
 * A row's numbers depend only on its own tokens: other slots never enter its attention (each
 * slot attends only to its own columns up to its position), its chunks are cut the same way
 * whatever else runs, and the sampler's draws depend only on the row's key and token index. So a
 * row gives the same tokens alone or next to others. Columns past a row's position hold stale
 * keys and values from earlier rows or padding; they are overwritten before they become visible.
 * Slots not taking part in a step write to a scratch column that no row ever sees.
 *
 * <p>Prefill pads a chunk to a power of two; the cache has {@code chunk} spare columns past
 * {@code maxLength} so padding never overflows it. The cache is donated to each call. Not
 * thread-safe: the scheduler's device thread owns it.
 */
public final class SlotDecoder implements AutoCloseable {
    private final CausalLm model;
    private final PjrtClient client;
    private final int slots;
    private final int maxLength;
    private final int chunk;
    private final int alternatives;
    private final int vocab;
    private final DType dtype;
    private final ServingLayout layout;
    private final Buckets chunkWidths;
    private final List<DeviceArray> owned = new ArrayList<>();
    private final Tree<Object> params;
    private final Jit prefillOne;
    private final Jit prefillTop;
    private final Jit decodeOne;
    private final Jit decodeTop;
    private final float[] temperature;
    private final int[] topK;
    private final float[] topP;
    private final double[] keys;
    private Tree<DeviceArray> cache;

    /**
     * @param params       host or device arrays (placed where the programs want them; the caller's stay the caller's)
     * @param slots        rows decoded together
     * @param maxLength    most tokens (prompt plus generated) a row may hold
     * @param chunk        most prompt tokens one {@link #prefill} call takes (a power of two; at most the
     *                     largest power of two within {@code maxLength})
     * @param alternatives most likely tokens reported per step when asked for (at least 1)
     * @param vocab        tokens that may be generated: ids {@code 0..vocab-1}, the tokenizer's size (a model's
     *                     vocabulary is often padded past it; padded ids are never picked)
     * @param mesh         null for one device; else the mesh the programs run on ({@link ServingLayout})
     */
    public SlotDecoder(CausalLm model, Tree<?> params, PjrtClient client, int slots, int maxLength, int chunk, DType dtype,
                       int alternatives, int vocab, Mesh mesh) {
        if (vocab < 1 || vocab > model.config().vocabSize()) {
            throw new IllegalArgumentException("a vocabulary of " + vocab + " tokens does not fit the model's " + model.config().vocabSize());
        }
        if (slots < 1 || maxLength < 2 || chunk < 1 || Integer.bitCount(chunk) != 1 || alternatives < 1) {
            throw new IllegalArgumentException("slot decoder: need slots >= 1 (got " + slots + "), max length >= 2 (got " + maxLength
                    + "), a power-of-two chunk (got " + chunk + ") and alternatives >= 1 (got " + alternatives + ")");
        }
        if (maxLength > model.config().maxPositions()) {
            throw new IllegalArgumentException("rows of " + maxLength + " tokens exceed the model's " + model.config().maxPositions()
                    + " positions");
        }
        this.model = model;
        this.client = client;
        this.slots = slots;
        this.maxLength = maxLength;
        this.chunk = Math.min(chunk, Integer.highestOneBit(maxLength));
        this.alternatives = alternatives;
        this.vocab = vocab;
        this.dtype = dtype;
        this.layout = new ServingLayout(mesh, model, slots);
        this.chunkWidths = Buckets.powersOfTwo(Math.min(16, this.chunk), this.chunk);
        this.params = layout.place(client, params, owned);
        this.temperature = new float[slots];
        this.topK = new int[slots];
        this.topP = new float[slots];
        this.keys = new double[2 * slots];
        Arrays.fill(topP, 1);
        ForwardOptions options = ForwardOptions.EVAL.withDtype(dtype);
        Set<String> none = Set.of();
        this.prefillOne = layout.apply(Jit.builder("prefill_slot", t -> prefillStep(t, options, 1)).donate("cache"), none).build(client);
        this.prefillTop = alternatives == 1 ? prefillOne
                : layout.apply(Jit.builder("prefill_slot_top" + alternatives, t -> prefillStep(t, options, alternatives)).donate("cache"),
                none).build(client);
        Set<String> perRow = Set.of("tokens", "columns", "index", "temperature", "top_k", "top_p", "keys", "next", "logprob", "top",
                "top_logprob");
        this.decodeOne = layout.apply(Jit.builder("decode_slots", t -> decodeStep(t, options, 1)).donate("cache"), perRow)
                .build(client);
        this.decodeTop = alternatives == 1 ? decodeOne
                : layout.apply(Jit.builder("decode_slots_top" + alternatives, t -> decodeStep(t, options, alternatives))
                .donate("cache"), perRow).build(client);
    }

    public int slots() {
        return slots;
    }

    public int maxLength() {
        return maxLength;
    }

    public int chunk() {
        return chunk;
    }

    /** The width a prefill of {@code n} prompt tokens runs at (padded to a compiled size): what it costs. */
    public int width(int n) {
        return chunkWidths.fit(n);
    }

    /** How many most likely tokens a step reports when asked for alternatives. */
    public int alternatives() {
        return alternatives;
    }

    /** Sets the sampling of the row that now occupies {@code slot}. */
    public void assign(int slot, Sampling s) {
        temperature[slot] = (float) s.temperature();
        topK[slot] = s.topK();
        topP[slot] = (float) s.topP();
        NdArray key = Rng.keyData(s.seed());
        keys[2 * slot] = key.get(0);
        keys[2 * slot + 1] = key.get(1);
    }

    /**
     * Writes {@code prompt[from..to)} of the row in {@code slot} into the cache at those columns
     * ({@code to - from <= chunk}; earlier chunks must be written already) and returns the token
     * picked after {@code prompt[to - 1]}: the row's first generated token when {@code to} is the
     * prompt's end. With {@code withAlternatives}, it carries {@link #alternatives()} alternatives.
     */
    public Token prefill(int slot, int[] prompt, int from, int to, boolean withAlternatives) {
        int n = to - from;
        if (n < 1 || n > chunk || from < 0 || to > prompt.length || to > maxLength) {
            throw new IllegalArgumentException("prefill of tokens " + from + ".." + to + " of a " + prompt.length
                    + "-token prompt: a chunk holds 1.." + chunk + " tokens within " + maxLength + " columns");
        }
        checkSlot(slot);
        int width = chunkWidths.fit(n);
        int[] tokens = Arrays.copyOf(Arrays.copyOfRange(prompt, from, to), width);
        Tree<Object> in = Tree.<Object>empty().nest("params", params)
                .with("tokens", NdArray.of(tokens, 1, width))
                .with("slot", NdArray.scalar(DType.S32, slot))
                .with("column", NdArray.scalar(DType.S32, from))
                .with("last", NdArray.scalar(DType.S32, n - 1))
                .with("temperature", NdArray.of(new float[] {temperature[slot]}, 1))
                .with("top_k", NdArray.of(new int[] {topK[slot]}, 1))
                .with("top_p", NdArray.of(new float[] {topP[slot]}, 1))
                .with("keys", NdArray.of(DType.U32, new double[] {keys[2 * slot], keys[2 * slot + 1]}, 1, 2));
        return Generator.tokens(run(withAlternatives ? prefillTop : prefillOne, in))[0];
    }

    /**
     * One step for every slot: slot s reads {@code tokens[s]} at column {@code columns[s]} (its
     * position) with {@code index[s]} tokens generated before it, where {@code active[s]}; other
     * slots take no part (their results are meaningless). Returns each slot's next token.
     */
    public Token[] decode(int[] tokens, int[] columns, boolean[] active, int[] index, boolean withAlternatives) {
        int scratch = maxLength + chunk - 1;
        int[] cols = new int[slots];
        int[] toks = new int[slots];
        for (int s = 0; s < slots; s++) {
            if (active[s] && (columns[s] < 0 || columns[s] >= maxLength)) {
                throw new IllegalArgumentException("slot " + s + ": column " + columns[s] + " is outside 0.." + (maxLength - 1));
            }
            cols[s] = active[s] ? columns[s] : scratch;
            toks[s] = active[s] ? tokens[s] : 0;
        }
        Tree<Object> in = Tree.<Object>empty().nest("params", params)
                .with("tokens", NdArray.of(toks, slots, 1))
                .with("columns", NdArray.of(cols, slots))
                .with("index", NdArray.of(index.clone(), slots))
                .with("temperature", NdArray.of(temperature.clone(), slots))
                .with("top_k", NdArray.of(topK.clone(), slots))
                .with("top_p", NdArray.of(topP.clone(), slots))
                .with("keys", NdArray.of(DType.U32, keys.clone(), slots, 2));
        return Generator.tokens(run(withAlternatives ? decodeTop : decodeOne, in));
    }

    /**
     * Compiles the programs for every chunk width now (a server's start-up); the variants with
     * alternatives compile when a request first asks for them. It writes into the last slot,
     * which is harmless: a row only ever sees the columns it wrote itself.
     */
    public void warmUp() {
        for (int w : chunkWidths.sizes()) {
            prefill(slots - 1, new int[w], 0, w, false);
        }
        decode(new int[slots], new int[slots], new boolean[slots], new int[slots], false);
    }

    private void checkSlot(int slot) {
        if (slot < 0 || slot >= slots) {
            throw new IllegalArgumentException("slot " + slot + " is outside 0.." + (slots - 1));
        }
    }

    private Tree<DeviceArray> run(Jit program, Tree<Object> inputs) {
        if (cache == null || cache.values().stream().anyMatch(DeviceArray::isDeleted)) {
            if (cache != null) {
                cache.values().forEach(DeviceArray::close);
            }
            cache = layout.zeroCache(client, maxLength + chunk, dtype);
        }
        Tree<DeviceArray> out = program.call(inputs.nest("cache", cache));
        cache = out.subtree("cache");
        return out;
    }

    /** Prefill of one slot: its cache rows are cut out, run through the model with the chunk, and written back. */
    private Tree<Tensor> prefillStep(Tree<Tensor> t, ForwardOptions options, int k) {
        Tensor zero = Constants.scalar(0, DType.S32);
        Tensor slot = t.get("slot");
        Tree<Tensor> cache = t.subtree("cache");
        Tree<Tensor> row = cache.map(c -> Shapes.dynamicSlice(c, new Tensor[] {slot, zero, zero, zero}, 1, c.dim(1), c.dim(2), c.dim(3)));
        CausalLm.Step s = model.decode(t.subtree("params"), row, t.get("tokens"), t.get("column"),
                Constants.zeros(DType.S32, 1), options);
        Tree<Tensor> written = cache.mapWithPath((p, c) -> Shapes.dynamicUpdateSlice(c, s.cache().get(p), slot, zero, zero, zero));
        // Only the chunk's last real token picks a token: the head runs on that position alone.
        Tensor hidden = s.head().hidden();
        Tensor lastHidden = Shapes.dynamicSlice(hidden, new Tensor[] {zero, t.get("last"), zero}, 1, 1, hidden.dim(2));
        Tensor logits = s.head().on(lastHidden).logits();
        Tensor last = logits.reshape(1, logits.dim(2)).slice(1, 0, vocab);
        Sampler.Sample pick = Sampler.sample(last, t.get("temperature"), t.get("top_k"), t.get("top_p"), t.get("keys"), zero, k);
        return outputs(written, pick);
    }

    private Tree<Tensor> decodeStep(Tree<Tensor> t, ForwardOptions options, int k) {
        CausalLm.Step s = model.decode(t.subtree("params"), t.subtree("cache"), t.get("tokens"), t.get("columns"),
                Constants.zeros(DType.S32, slots), options);
        Tensor logits = s.logits().reshape(slots, s.logits().dim(2)).slice(1, 0, vocab);
        Sampler.Sample pick = Sampler.sample(logits, t.get("temperature"), t.get("top_k"), t.get("top_p"), t.get("keys"),
                t.get("index"), k);
        return outputs(s.cache(), pick);
    }

    private static Tree<Tensor> outputs(Tree<Tensor> cache, Sampler.Sample pick) {
        return Tree.<Tensor>empty().nest("cache", cache).with("next", pick.tokens()).with("logprob", pick.logprobs())
                .with("top", pick.topTokens()).with("top_logprob", pick.topLogprobs());
    }

    /** Frees the cache, the programs and the parameters this decoder placed. */
    @Override
    public void close() {
        if (cache != null) {
            cache.values().forEach(DeviceArray::close);
        }
        prefillOne.close();
        if (prefillTop != prefillOne) {
            prefillTop.close();
        }
        decodeOne.close();
        if (decodeTop != decodeOne) {
            decodeTop.close();
        }
        owned.forEach(DeviceArray::close);
    }
}
