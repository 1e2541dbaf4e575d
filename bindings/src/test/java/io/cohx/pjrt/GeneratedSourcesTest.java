package io.cohx.pjrt;

import io.cohx.pjrt.capi.PjrtCApi;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed jextract output must come from the header the pinned CPU wheel ships: the header
 * sha256 that generate-pjrt-bindings.sh recorded in the generated package-info.java must equal the
 * sha256 of the pjrt_c_api.h installed from that wheel. A lock bump without regenerating fails here.
 */
class GeneratedSourcesTest {
    private static final Path PACKAGE_INFO = Path.of("src/generated/java/io/cohx/pjrt/capi/package-info.java");
    private static final String REGENERATE = "regenerate with tools/jextract/generate-pjrt-bindings.sh JEXTRACT (docs/PJRT_BINDINGS.md)";

    @Test
    void generatedSourcesComeFromThePinnedHeader() throws Exception {
        assertTrue(Files.isRegularFile(PACKAGE_INFO), PACKAGE_INFO.toAbsolutePath() + " is missing; " + REGENERATE);
        String info = Files.readString(PACKAGE_INFO);
        var recorded = Pattern.compile("PJRT C API (\\d+)\\.(\\d+),\\s*\\*?\\s*sha256 ([0-9a-f]{64})").matcher(info);
        assertTrue(recorded.find(), PACKAGE_INFO + " records no 'PJRT C API M.N, sha256 HEX' line; " + REGENERATE);

        Path header = TestPlugins.cpuHeader();
        String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(header)));
        assertEquals(actual, recorded.group(3), "the generated PJRT bindings are stale: they were made from a header with"
                + " sha256 " + recorded.group(3) + ", the pinned wheel ships " + header + " with sha256 " + actual + "; " + REGENERATE);
        assertTrue(info.contains(TestPlugins.cpuEntry().wheel()), PACKAGE_INFO + " does not name the pinned wheel "
                + TestPlugins.cpuEntry().wheel() + "; " + REGENERATE);
        assertEquals(Integer.parseInt(recorded.group(1)), PjrtCApi.PJRT_API_MAJOR(), "recorded vs generated major version");
        assertEquals(Integer.parseInt(recorded.group(2)), PjrtCApi.PJRT_API_MINOR(), "recorded vs generated minor version");
    }

    @Test
    void javaEnumsCarryTheHeadersCodes() {
        // ElementType takes its codes from the generated constants; ErrorCode is indexed by the C code.
        assertEquals(PjrtCApi.PJRT_Buffer_Type_BF16(), ElementType.BF16.code());
        for (ErrorCode code : ErrorCode.values()) {
            if (code == ErrorCode.OK) {
                continue;
            }
            int c;
            try {
                c = (int) PjrtCApi.class.getMethod("PJRT_Error_Code_" + code.name()).invoke(null);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError("the header has no PJRT_Error_Code_" + code.name(), e);
            }
            assertEquals(c, code.ordinal(), "PJRT_Error_Code_" + code.name());
            assertEquals(code, ErrorCode.of(c));
        }
    }
}
