package io.cohx.pjrt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Version gating, with stand-in plugins built by gcc that report a chosen PJRT API version. */
class VersionTest {

    static Path build(Path dir, String name, int minor, int slots) throws IOException, InterruptedException {
        Path src = dir.resolve("old_plugin.c");
        if (!Files.exists(src)) {
            try (InputStream in = VersionTest.class.getResourceAsStream("old_plugin.c")) {
                Files.copy(in, src);
            }
        }
        Path so = dir.resolve(name);
        Process p = new ProcessBuilder("gcc", "-shared", "-fPIC", "-DMINOR=" + minor, "-DSLOTS=" + slots, src.toString(), "-o", so.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return so;
    }

    @Test
    void tooOldPluginIsRefusedClearly(@TempDir Path dir) throws Exception {
        Path so = build(dir, "libold_pjrt.so", 40, 118);
        var e = assertThrows(PjrtException.class, () -> PjrtPlugin.load(so));
        assertTrue(e.getMessage().contains("implements PJRT C API 0.40, but cohx needs 0." + PjrtPlugin.MIN_MINOR_VERSION + " or newer"),
                e.getMessage());
    }

    @Test
    void missingFunctionsAreNotCalled(@TempDir Path dir) throws Exception {
        // A table of NULL pointers: the binding sees the slots as absent and says so instead of jumping to NULL.
        Path so = build(dir, "libnull_pjrt.so", 81, 118);
        var e = assertThrows(PjrtException.class, () -> PjrtPlugin.load(so));
        assertEquals(ErrorCode.UNIMPLEMENTED, e.code());
        assertTrue(e.getMessage().contains("does not provide PJRT_Plugin_Initialize"), e.getMessage());
    }

    @Test
    void shortTableMeansFunctionsBeyondItAreAbsent(@TempDir Path dir) throws Exception {
        Path so = build(dir, "libshort_pjrt.so", 81, 2);
        var e = assertThrows(PjrtException.class, () -> PjrtPlugin.load(so));
        assertTrue(e.getMessage().contains("does not provide PJRT_Plugin_Initialize"), e.getMessage());
        assertFalse(e.getMessage().isEmpty());
    }
}
