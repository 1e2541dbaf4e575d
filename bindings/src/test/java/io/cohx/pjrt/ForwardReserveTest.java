package io.cohx.pjrt;

import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.cohx.pjrt.testing.TestPlugins.f32;
import static io.cohx.pjrt.testing.TestPlugins.readF32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Plugins newer than the header the bindings were generated from (the CUDA and TPU plugins, API
 * 0.115) reject argument structs smaller than their own; the binding gives them zero-filled room
 * ({@link Api#FORWARD_RESERVE}). Checked with a stand-in plugin built against the real header that
 * behaves like such a plugin, and with the real CPU plugin driven through every call the binding
 * makes while receiving the padded structs.
 */
class ForwardReserveTest {

    static Path buildStandIn(Path dir, String name, int minor, int grown) throws IOException, InterruptedException {
        Path src = dir.resolve("newer_plugin.c");
        if (!Files.exists(src)) {
            try (InputStream in = ForwardReserveTest.class.getResourceAsStream("newer_plugin.c")) {
                Files.copy(in, src);
            }
        }
        Path so = dir.resolve(name);
        Process p = new ProcessBuilder("gcc", "-std=c11", "-Wall", "-Werror", "-shared", "-fPIC", "-DMINOR=" + minor, "-DGROWN=" + grown,
                "-I", TestPlugins.cpuHeader().getParent().toString(), src.toString(), "-o", so.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return so;
    }

    private static long seenStructSize(PjrtPlugin plugin) {
        return (Long) plugin.attributes().get("seen_struct_size");
    }

    @Test
    void pluginNewerThanTheHeaderGetsZeroedRoomAndAcceptsIt(@TempDir Path dir) throws Exception {
        // Like 0.115 against our 0.81 header: its PJRT_Plugin_Initialize_Args is 8 bytes longer.
        PjrtPlugin plugin = PjrtPlugin.load(buildStandIn(dir, "libnewer_pjrt.so", Api.BOUND_MINOR + 34, 8));
        assertEquals(Api.BOUND_MINOR + 34, plugin.minorVersion());
        assertEquals(Api.FORWARD_RESERVE, plugin.api.forwardReserve());
        assertEquals(16 + Api.FORWARD_RESERVE, seenStructSize(plugin), "PJRT_Plugin_Initialize_Args is 16 bytes in the header");
    }

    @Test
    void pluginOfTheHeadersVersionGetsExactlyTheHeadersSizes(@TempDir Path dir) throws Exception {
        PjrtPlugin plugin = PjrtPlugin.load(buildStandIn(dir, "libsame_pjrt.so", Api.BOUND_MINOR, 0));
        assertEquals(0, plugin.api.forwardReserve());
        assertEquals(16, seenStructSize(plugin));
    }

    @Test
    void growthBeyondTheReserveIsThePluginsClearError(@TempDir Path dir) throws Exception {
        Path so = buildStandIn(dir, "libmuchnewer_pjrt.so", Api.BOUND_MINOR + 34, (int) Api.FORWARD_RESERVE + 8);
        var e = assertThrows(PjrtException.class, () -> PjrtPlugin.load(so));
        assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("PJRT_Plugin_Initialize: INVALID_ARGUMENT: Unexpected PJRT_Plugin_Initialize_Args size: expected "
                + (16 + Api.FORWARD_RESERVE + 8) + ", got " + (16 + Api.FORWARD_RESERVE)), e.getMessage());
    }

    /** The XLA CPU plugin reads padded structs the way a newer plugin would: every call cohx makes still works. */
    @Test
    void realPluginRunsEveryCallWithPaddedStructs() throws Exception {
        PjrtPlugin plugin = PjrtPlugin.loadWithForwardReserve(TestPlugins.cpuLibrary(), Api.FORWARD_RESERVE);
        assertEquals(Api.FORWARD_RESERVE, plugin.api.forwardReserve());
        assertTrue(plugin.attributes().containsKey("xla_version"), plugin.attributes().toString());
        try (PjrtClient c = PjrtClient.create(plugin, Map.of("cpu_device_count", 2L))) {
            assertEquals("cpu", c.platformName());
            assertEquals(2, c.addressableDevices().size());
            PjrtDevice d = c.addressableDevices().getFirst();
            assertFalse(d.memories().isEmpty());
            assertFalse(d.defaultMemory().kind().isEmpty());
            try (var mm = c.compile(ExecuteTest.matmul("f32"), CompileOptions.DEFAULT);
                 var a = f32(c, d, new long[] {2, 3}, ExecuteTest.A);
                 var b = f32(c, d, new long[] {3, 2}, ExecuteTest.B);
                 var ready = a.readyEvent()) {
                ready.onReady().get(30, TimeUnit.SECONDS);
                assertTrue(ready.isReady());
                var out = mm.execute(List.of(List.of(a, b)), Set.of(0)).getFirst().getFirst();
                assertArrayEquals(ExecuteTest.AB, readF32(out), 1e-6f);
                assertEquals(d, out.device());
                assertTrue(out.onDeviceSizeInBytes() >= 16);
                assertEquals((6 + 6) * 4, mm.compiledMemoryStats().arguments());
                try (var again = c.deserialize(mm.serialize(), mm.parameters())) {
                    var two = again.execute(List.of(List.of(a, b))).getFirst().getFirst();
                    assertArrayEquals(ExecuteTest.AB, readF32(two), 1e-6f);
                    two.delete();
                    assertTrue(two.isDeleted());
                }
                var bad = assertThrows(PjrtException.class, () -> c.compile("module { not mlir", CompileOptions.DEFAULT));
                assertFalse(bad.getMessage().isEmpty());
            }
        }
    }
}
