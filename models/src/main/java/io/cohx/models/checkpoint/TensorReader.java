package io.cohx.models.checkpoint;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;

/**
 * Random access to the tensors of one checkpoint, one at a time, so that converting a model
 * needs memory for its largest tensor only. Tensors that lie in a memory-mapped file come back
 * as views valid until {@link #close()}; those that must be assembled (merged shards, chunked
 * arrays, zip entries) are allocated in the caller's {@code arena}.
 */
public interface TensorReader extends AutoCloseable {

    /** Every tensor, in the order of the file(s). */
    List<TensorInfo> tensors();

    /** Reads tensor {@code name}; a {@link CheckpointException} names the file if it is absent or corrupt. */
    HostTensor read(String name, Arena arena);

    /** The file or folder read, for messages. */
    Path source();

    /** The info of {@code name}, or null. */
    default TensorInfo info(String name) {
        for (TensorInfo t : tensors()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }

    @Override
    void close();
}
