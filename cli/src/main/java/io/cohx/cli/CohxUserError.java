package io.cohx.cli;

/** An error caused by the user's input (a flag, a file); printed as one line without a stack trace. */
public class CohxUserError extends RuntimeException {
    public CohxUserError(String message) {
        super(message);
    }

    public CohxUserError(String message, Throwable cause) {
        super(message, cause);
    }
}
