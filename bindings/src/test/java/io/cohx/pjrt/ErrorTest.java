package io.cohx.pjrt;

import io.cohx.pjrt.plugins.PluginException;
import io.cohx.pjrt.plugins.PluginLock;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.cohx.pjrt.testing.TestPlugins.f32;
import static io.cohx.pjrt.testing.TestPlugins.readF32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input gets an exception that says what is wrong, and the JVM lives on. */
class ErrorTest {

    @Test
    void invalidMlirCarriesXlasMessage() {
        PjrtClient c = TestPlugins.cpuClient(1);
        String bad = ExecuteTest.binary("add", "f32").replace("\"stablehlo.add\"(%a, %b)", "\"stablehlo.add\"(%a, %nope)");
        var e = assertThrows(PjrtException.class, () -> c.compile(bad, CompileOptions.DEFAULT));
        assertTrue(e.getMessage().startsWith("compiling StableHLO failed"), e.getMessage());
        assertTrue(e.getMessage().contains("undeclared SSA value") && e.getMessage().contains(":3:"),
                "XLA's message names the problem and its line: " + e.getMessage());
        var e2 = assertThrows(PjrtException.class, () -> c.compile("this is not MLIR", CompileOptions.DEFAULT));
        assertTrue(e2.getMessage().length() > "compiling StableHLO failed".length(), e2.getMessage());
        // Still alive and working.
        try (var ok = c.compile(ExecuteTest.binary("add", "f32"), CompileOptions.DEFAULT)) {
            assertEquals(1, ok.numOutputs());
        }
    }

    @Test
    void wrongArgumentCountShapeOrDtypeIsAnException() {
        PjrtClient c = TestPlugins.cpuClient(1);
        PjrtDevice d = c.addressableDevices().getFirst();
        try (var exe = c.compile(ExecuteTest.binary("add", "f32"), CompileOptions.DEFAULT);
             var a = f32(c, d, new long[] {2, 3}, 1, 2, 3, 4, 5, 6);
             var wrongShape = f32(c, d, new long[] {3, 2}, 1, 2, 3, 4, 5, 6);
             var wrongType = TestPlugins.s32(c, d, new long[] {2, 3}, 1, 2, 3, 4, 5, 6)) {
            var count = assertThrows(PjrtException.class, () -> exe.execute(List.of(List.of(a))));
            assertTrue(count.getMessage().contains("got 1 arguments, the program takes 2"), count.getMessage());
            var shape = assertThrows(PjrtException.class, () -> exe.execute(List.of(List.of(a, wrongShape))));
            assertTrue(shape.getMessage().contains("argument 1") && shape.getMessage().contains("tensor<3x2xf32>")
                    && shape.getMessage().contains("expects tensor<2x3xf32>"), shape.getMessage());
            var dtype = assertThrows(PjrtException.class, () -> exe.execute(List.of(List.of(wrongType, a))));
            assertTrue(dtype.getMessage().contains("tensor<2x3xi32>"), dtype.getMessage());
            var lists = assertThrows(PjrtException.class, () -> exe.execute(List.of(List.of(a, a), List.of(a, a))));
            assertTrue(lists.getMessage().contains("runs on 1 devices"), lists.getMessage());
            var out = exe.execute(List.of(List.of(a, a))).getFirst().getFirst();
            assertArrayEquals(new float[] {2, 4, 6, 8, 10, 12}, readF32(out));
            out.close();
        }
    }

    @Test
    void hostDataTooSmallIsAnException() {
        PjrtClient c = TestPlugins.cpuClient(1);
        var e = assertThrows(PjrtException.class,
                () -> c.bufferFromHost(new byte[8], ElementType.F32, new long[] {2, 3}, c.addressableDevices().getFirst()));
        assertTrue(e.getMessage().contains("needs 24 bytes"), e.getMessage());
    }

    @Test
    void missingPluginFileNamesInstallCommand(@TempDir Path dir) {
        var e = assertThrows(PjrtException.class, () -> PjrtPlugin.load(dir.resolve("nope.so")));
        assertTrue(e.getMessage().contains("nope.so") && e.getMessage().contains("cohx plugins install"), e.getMessage());
    }

    @Test
    void truncatedPluginIsAClearError(@TempDir Path dir) throws IOException {
        Path cut = dir.resolve("truncated_plugin.so");
        try (InputStream in = Files.newInputStream(TestPlugins.cpuLibrary()); OutputStream out = Files.newOutputStream(cut)) {
            out.write(in.readNBytes(1 << 20));
        }
        var e = assertThrows(PjrtException.class, () -> PjrtPlugin.load(cut));
        assertTrue(e.getMessage().contains("cannot load PJRT plugin") && e.getMessage().contains("truncated_plugin.so") && e.getMessage().contains("the file has 1048576")
                && e.getMessage().contains("truncated or corrupt"), e.getMessage());
    }

    @Test
    void notAnElfFileIsAClearError(@TempDir Path dir) throws IOException {
        Path text = Files.writeString(dir.resolve("plugin.so"), "#!/bin/sh\necho not a library\n");
        var e = assertThrows(PjrtException.class, () -> PjrtPlugin.load(text));
        assertTrue(e.getMessage().contains("is not a shared library"), e.getMessage());
    }

    @Test
    void wrongArchitecturePluginIsAClearError(@TempDir Path dir) throws IOException {
        byte[] head = new byte[64];
        try (InputStream in = Files.newInputStream(TestPlugins.cpuLibrary())) {
            in.readNBytes(head, 0, 64);
        }
        boolean hostIsX86 = !System.getProperty("os.arch").equals("aarch64");
        int otherMachine = hostIsX86 ? 183 : 62;
        head[18] = (byte) otherMachine;
        head[19] = 0;
        Path other = dir.resolve("other_arch.so");
        Files.write(other, head);
        var e = assertThrows(PjrtException.class, () -> PjrtPlugin.load(other));
        assertTrue(e.getMessage().contains("is a plugin for " + (hostIsX86 ? "aarch64" : "x86-64")), e.getMessage());
    }

    @Test
    void sharedLibraryWithoutGetPjrtApiIsRejected() throws IOException {
        Path libc = Path.of("/lib/x86_64-linux-gnu/libz.so.1");
        if (!Files.exists(libc)) {
            libc = Path.of(System.getProperty("java.home"), "lib", "libzip.so");
        }
        Path lib = libc;
        var e = assertThrows(PjrtException.class, () -> PjrtPlugin.load(lib));
        assertTrue(e.getMessage().contains("exports no GetPjrtApi"), e.getMessage());
    }

    @Test
    void unknownPluginNameListsValidNames() {
        var e = assertThrows(PluginException.class, () -> PluginLock.bundled().get("rocm"));
        assertEquals("unknown plugin 'rocm'; valid names: cpu, cuda12, cuda13, tpu", e.getMessage());
    }
}
