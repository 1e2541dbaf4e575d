package io.cohx.models.checkpoint;

import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * The tiny checkpoints of src/test/resources/checkpoints, written by
 * tools/reference/make_checkpoint_fixtures.py (see its docstring to regenerate).
 */
public final class Fixtures {
    private Fixtures() {}

    public static Path path(String name) {
        try {
            return Path.of(Fixtures.class.getResource("/checkpoints/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test fixture checkpoints/" + name
                    + "; run tools/reference/make_checkpoint_fixtures.py", e);
        }
    }
}
