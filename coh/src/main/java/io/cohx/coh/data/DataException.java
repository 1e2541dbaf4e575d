package io.cohx.coh.data;

/**
 * The one error type of the data side (readers, packing, TextProcessor, batches). Its message is
 * meant for the user: it names the file and line, the field or the flag that is wrong, and says
 * what to do about it, so callers print it as is.
 */
public final class DataException extends RuntimeException {

    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
