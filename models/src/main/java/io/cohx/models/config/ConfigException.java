package io.cohx.models.config;

/**
 * A model configuration cannot be used: an unknown key, a value of the wrong type, sizes that do
 * not fit together. The message names the source (file, flag) and the key, and says what is allowed.
 */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
