package io.cohx.coh.train;

/** Training cannot start or go on (bad configuration, a non-finite loss); the message says what to do. */
public class TrainingException extends RuntimeException {
    public TrainingException(String message) {
        super(message);
    }

    public TrainingException(String message, Throwable cause) {
        super(message, cause);
    }
}
