package io.cohx.pjrt.plugins;

/** A plugin cannot be found, fetched, verified or installed; the message says what to do. */
public class PluginException extends RuntimeException {
    public PluginException(String message) {
        super(message);
    }

    public PluginException(String message, Throwable cause) {
        super(message, cause);
    }
}
