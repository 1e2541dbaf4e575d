package io.cohx.models.tokenizer.jinja;

/**
 * A chat template that cannot be parsed or rendered: a construct outside the Jinja subset cohx
 * implements, a syntax error, or the template's own {@code raise_exception(...)}. The message
 * names the template line.
 */
public final class JinjaException extends RuntimeException {

    public JinjaException(String message) {
        super(message);
    }

    static JinjaException at(int line, String message) {
        return new JinjaException("template line " + line + ": " + message);
    }
}
