package io.cohx.serve;

/** The request queue is full: answered 503 with a Retry-After header. */
public final class Overloaded extends RuntimeException {
    public Overloaded(int depth) {
        super("the server is busy (" + depth + " requests waiting); retry shortly");
    }
}
