package io.cohx.serve;

/** A request the server cannot serve as sent: answered 400 with a JSON error naming {@link #field()}. */
public final class BadRequest extends RuntimeException {
    private final String field;

    public BadRequest(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The JSON field at fault, or null for the body as a whole. */
    public String field() {
        return field;
    }
}
