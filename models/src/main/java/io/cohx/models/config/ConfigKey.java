package io.cohx.models.config;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The key of a config record component whose name is not its key in snake_case (for example a
 * component {@code explicitHeadDim} stored as {@code head_dim}); see {@link ConfigRecord}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
@interface ConfigKey {
    String value();
}
