package io.cohx.models.checkpoint;

/**
 * A checkpoint file or folder cannot be read or written as asked: truncated or corrupt data,
 * a tensor whose shape does not fit the model config, a missing or unexpected tensor. The
 * message names the file and the tensor and says what to do; callers print it as is.
 */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
