package io.cohx.coh.data;

/**
 * One training batch as docs/COH.md#packing defines it: {@code tokens} (int32) and {@code lossMasks}
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
}
