package io.cohx.pjrt;

/**
 * An error reported by a PJRT plugin (carrying its code and message) or by the binding when a
 * call cannot be made (bad argument, closed object, function missing from an old plugin).
 */
public class PjrtException extends RuntimeException {
    private final ErrorCode code;

    public PjrtException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public PjrtException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The PJRT status code; {@link ErrorCode#INVALID_ARGUMENT} for the binding's own checks. */
    public ErrorCode code() {
        return code;
    }
}
