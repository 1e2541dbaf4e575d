package io.cohx.coh.data;

/**
 * One training batch as COH_SPEC.md §4 defines it: {@code tokens} (int32) and {@code lossMasks}
 * (float32), both row-major {@code [batch, seq]}; {@code segmentIds} (same shape, or null when not
 * asked for) numbers the examples packed into each row from 1, so a model can stop attention
 * across example boundaries. {@code epoch} is the pass over the data the batch's last token came from.
 */
public record PackedBatch(int batch, int seq, int[] tokens, float[] lossMasks, int[] segmentIds, long epoch) {

    public int token(int row, int col) {
        return tokens[row * seq + col];
    }

    public float mask(int row, int col) {
        return lossMasks[row * seq + col];
    }

    /**
     * Rows {@code [from, to)}: the part of a global batch one process of a multi-process run
     * supplies (every process packs the same deterministic stream and keeps its rows, so the
     * processes' parts put together are exactly the batch one process would train on, and one
     * data position, the same on every process, resumes them all).
     */
    public PackedBatch rows(int from, int to) {
        if (from < 0 || to > batch || from >= to) {
            throw new IllegalArgumentException("rows [" + from + ", " + to + ") of a batch of " + batch);
        }
        if (from == 0 && to == batch) {
            return this;
        }
        int a = from * seq, b = to * seq;
        return new PackedBatch(to - from, seq, java.util.Arrays.copyOfRange(tokens, a, b), java.util.Arrays.copyOfRange(lossMasks, a, b),
                segmentIds == null ? null : java.util.Arrays.copyOfRange(segmentIds, a, b), epoch);
    }
}
