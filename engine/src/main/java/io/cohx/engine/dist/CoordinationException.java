package io.cohx.engine.dist;

/** A multi-process run cannot go on: a peer died or hung, the coordinator is gone, or a wait timed out. */
public class CoordinationException extends RuntimeException {
    public CoordinationException(String message) {
        super(message);
    }

    public CoordinationException(String message, Throwable cause) {
        super(message, cause);
    }
}
