package io.cohx.coh.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;

/**
 * Where a {@link PackedBatches} iterator stands, complete enough that a new iterator started from
 * it yields exactly the batches the old one would have: the epoch, the file order of this epoch
 * and the index into it, the byte offset of the next line in that file (decompressed, for gzip)
 * and its line number, the tokens already read but not yet batched, and the state of the
 * generator that shuffles the file order each epoch. A checkpoint stores it as JSON
 * ({@link #toJson()} / {@link #fromJson}).
 */
public record DataPosition(List<String> files, int[] order, int fileIndex, long byteOffset, long line, long epoch,
                           long rngState, int[] tokens, float[] masks, int[] segments, long segmentCounter) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new DataException("cannot write the data position as JSON: " + e.getMessage(), e);
        }
    }

    public static DataPosition fromJson(String json) {
        try {
            return JSON.readValue(json, DataPosition.class);
        } catch (JsonProcessingException e) {
            throw new DataException("the saved data position is not valid (" + e.getOriginalMessage()
                    + "); the checkpoint's data state is damaged or from another cohx version", e);
        }
    }
}
