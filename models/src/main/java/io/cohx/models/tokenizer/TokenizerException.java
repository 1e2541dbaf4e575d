package io.cohx.models.tokenizer;

/**
 * A tokenizer file that cannot be used: missing, truncated, of the wrong type, or using a
 * feature cohx does not implement. The message names the file, what is wrong with it and, where
 * there is one, what to do instead.
 */
public final class TokenizerException extends RuntimeException {

    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
