package io.cohx.models.checkpoint;

/** Told after each tensor a writer has put on disk; the CLI turns it into a progress line on stderr. */
@FunctionalInterface
public interface WriteProgress {
    void tensorWritten(int index, int total, TensorInfo tensor);

    WriteProgress NONE = (i, n, t) -> {};
}
