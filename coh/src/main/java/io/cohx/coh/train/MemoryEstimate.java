package io.cohx.coh.train;

import io.cohx.engine.RematPolicy;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The train step's memory per device worked out from shapes alone, for a device that is not
 * here to compile for (a GPU or TPU named by {@code --platform} without its plugin) and as a
 * cross-check of the compiled figures. It is an estimate: it counts the tensors a transformer
 * step keeps, not what a compiler's buffer assignment makes of them. docs/MEMORY.md derives the
 * formula; in short, with T tokens of one micro-batch per device, p bytes per activation
 * element, and parameters, gradients and optimizer state split over fsdp × mp:
 * <pre>
 *   parameters      = Σ parameter bytes / (fsdp·mp)
 *   optimizer state = Σ state bytes / (fsdp·mp)
 *   gradients       = parameters (f32, like the parameters), plus one more copy when two of them
 *                     are summed (a pretraining batch or gradient accumulation)
 *   activations     = L · kept · T + (one layer's full set · T when remat recomputes it)
 *                     + attention scores of one chunk
 *   logits          = 2 · T · V · 4 (f32 logits and their gradient), or a chunk's worth of them
 * </pre>
 * where "kept" per token and layer is {@code p·(6h + (4h + 4i)/mp) + 8·a·S/mp} when everything is
 * saved (norm inputs and outputs, q/k/v, attention output, residuals; the MLP's gate, up, their
 * activation and product; f32 scores and weights), {@code p·(h + (4h + 2i)/mp) + 4·a·S/mp} for
 * {@code dots_saveable} (the matrix products' outputs, scores included),
 * {@code p·(h + (4h + 2i)/mp)} for {@code dots_with_no_batch_dims_saveable}, and {@code p·h} (the
 * block's input) for {@code nothing_saveable}.
 *
 * @param parameters       parameter bytes per device
 * @param optimizerState   optimizer state bytes per device
 * @param gradients        gradient bytes per device
 * @param activations      activation bytes per device (saved for the backward plus the transient
 *                         of one recomputed layer and one attention chunk)
 * @param logits           logits and their gradient per device
 */
public record MemoryEstimate(long parameters, long optimizerState, long gradients, long activations, long logits) {

    /**
     * The model's dimensions the estimate needs.
     *
     * @param parameterBytes  all parameters' bytes (f32)
     * @param stateBytes      all optimizer state bytes
     * @param layers          transformer blocks
     * @param hidden          residual width h
     * @param intermediate    MLP width i
     * @param heads           attention heads a
     * @param vocab           vocabulary V
     */
    public record Dims(long parameterBytes, long stateBytes, int layers, int hidden, int intermediate, int heads, int vocab) {}

    /**
     * The step's layout and settings.
     *
     * @param batch          rows of one micro-batch (the whole batch, before splitting)
     * @param seq            sequence length S
     * @param activationBytes bytes per activation element (2 for bf16/f16, 4 for f32)
     * @param dp             data-parallel ways; fsdp and mp likewise
     * @param twoGradients   whether two gradients are alive at once (pretraining batch or accumulation)
     */
    public record Layout(int batch, int seq, int activationBytes, int dp, int fsdp, int mp, RematPolicy remat, int lossChunk,
                         int attentionChunk, boolean twoGradients) {}

    public static MemoryEstimate of(Dims d, Layout l) {
        int shards = l.fsdp() * l.mp();
        long params = ceilDiv(d.parameterBytes(), shards);
        long state = ceilDiv(d.stateBytes(), shards);
        long grads = params * (l.twoGradients() ? 2 : 1);
        double tokens = (double) l.batch() / (l.dp() * l.fsdp()) * l.seq();
        double p = l.activationBytes();
        double h = d.hidden();
        double i = d.intermediate();
        double a = d.heads();
        double mp = l.mp();
        double scoresPerToken = 8 * a * l.seq() / mp; // f32 scores and softmax weights, one row of S per head
        double full = p * (6 * h + (4 * h + 4 * i) / mp) + scoresPerToken;
        double kept = switch (l.remat()) {
            case EVERYTHING_SAVEABLE -> full;
            case DOTS_SAVEABLE -> p * (h + (4 * h + 2 * i) / mp) + scoresPerToken / 2;
            case DOTS_WITH_NO_BATCH_DIMS_SAVEABLE -> p * (h + (4 * h + 2 * i) / mp);
            case NOTHING_SAVEABLE -> p * h;
        };
        if (l.attentionChunk() > 0 && l.attentionChunk() < l.seq()) {
            // The chunked attention's loop keeps no scores; its backward recomputes one chunk at a time.
            kept -= l.remat() == RematPolicy.EVERYTHING_SAVEABLE ? scoresPerToken : l.remat() == RematPolicy.DOTS_SAVEABLE ? scoresPerToken / 2 : 0;
            full -= scoresPerToken;
        }
        double recompute = l.remat() == RematPolicy.EVERYTHING_SAVEABLE ? 0 : full * tokens;
        int chunk = l.attentionChunk() > 0 && l.attentionChunk() < l.seq() ? l.attentionChunk() : 0;
        double chunkScores = chunk == 0 ? 0 : scoresPerToken * tokens * chunk / l.seq();
        double activations = d.layers() * kept * tokens + recompute + chunkScores;
        double positions = l.lossChunk() > 0 && l.lossChunk() < l.seq() ? tokens * l.lossChunk() / l.seq() : tokens;
        double logits = 2 * positions * d.vocab() * 4.0;
        return new MemoryEstimate(params, state, grads, (long) activations, (long) logits);
    }

    /** All of it: what must fit on one device. */
    public long peak() {
        return parameters + optimizerState + gradients + activations + logits;
    }

    /** Rows for the dry run's table, by label. */
    public Map<String, Long> rows() {
        var m = new LinkedHashMap<String, Long>();
        m.put("parameters", parameters);
        m.put("optimizer state", optimizerState);
        m.put("gradients", gradients);
        m.put("activations", activations);
        m.put("logits and their gradient", logits);
        m.put("peak", peak());
        return m;
    }

    private static long ceilDiv(long x, long y) {
        return (x + y - 1) / y;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "estimate(params=%d, opt=%d, grads=%d, activations=%d, logits=%d)", parameters, optimizerState,
                gradients, activations, logits);
    }
}
