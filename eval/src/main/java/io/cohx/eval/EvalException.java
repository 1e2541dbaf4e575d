package io.cohx.eval;

/**
 * What went wrong in an evaluation, said for the user: the file, line, field or flag at fault and
 * what to do. The command line prints the message alone (no stack trace).
 */
public class EvalException extends RuntimeException {
    public EvalException(String message) {
        super(message);
    }

    public EvalException(String message, Throwable cause) {
        super(message, cause);
    }
}
