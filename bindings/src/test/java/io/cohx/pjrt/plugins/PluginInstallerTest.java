package io.cohx.pjrt.plugins;

import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The installer never leaves a usable-looking plugin after a bad download; the lock parser names lines. */
class PluginInstallerTest {

    @Test
    void shaMismatchInstallsNothing(@TempDir Path cache) throws IOException {
        var real = TestPlugins.cpuEntry();
        var wrong = new PluginLock.Entry(real.name(), real.pkg(), real.version(), real.wheel(), "00".repeat(32),
                real.python(), real.platform(), real.library(), real.header());
        var installer = new PluginInstaller(cache, "python3");
        var messages = new ArrayList<String>();
        var e = assertThrows(PluginException.class, () -> installer.install(wrong, messages::add));
        assertTrue(e.getMessage().contains("sha256 mismatch") && e.getMessage().contains("nothing was installed"), e.getMessage());
        assertTrue(installer.installed(wrong).isEmpty());
        try (var files = Files.list(cache)) {
            assertEquals(java.util.List.of(".install.lock"), files.map(p -> p.getFileName().toString()).toList(),
                    "no staging or plugin folder may remain");
        }
        assertTrue(messages.stream().anyMatch(m -> m.startsWith("verifying sha256")), messages.toString());
    }

    @Test
    void interruptedInstallLeftoversAreNotAPluginAndAreCleaned(@TempDir Path cache) throws IOException {
        var entry = TestPlugins.cpuEntry();
        var installer = new PluginInstaller(cache, "python3");
        // What an interrupted install leaves: a folder with the library but no marker.
        Path half = Files.createDirectories(cache.resolve(entry.folderName()));
        Files.writeString(half.resolve(entry.libraryFileName()), "partial");
        assertTrue(installer.installed(entry).isEmpty(), "no marker, no plugin");
        // A marker whose size does not match the library is not trusted either.
        Files.writeString(half.resolve(PluginInstaller.MARKER), "wheel_sha256=" + entry.sha256() + "\nlibrary_size=999\n");
        assertTrue(installer.installed(entry).isEmpty(), "size mismatch, no plugin");
        Path staging = Files.createDirectories(cache.resolve(".staging-" + entry.folderName() + "-123"));
        Files.writeString(staging.resolve("x"), "y");
        // A real install replaces the half folder, removes the staging leftover and works.
        Path lib = installer.install(entry, m -> { });
        assertEquals(cache.resolve(entry.folderName()).resolve(entry.libraryFileName()), lib);
        assertTrue(installer.installed(entry).isPresent());
        assertFalse(Files.exists(staging));
        assertEquals(Files.size(TestPlugins.cpuLibrary()), Files.size(lib));
        assertTrue(installer.installedHeader(entry).isPresent());
    }

    @Test
    void lockParseErrorsNameTheLine() {
        var bad = "[cpu]\npackage = x\nthis line is wrong\n";
        var e = assertThrows(IOException.class, () -> PluginLock.parse(new ByteArrayInputStream(bad.getBytes(StandardCharsets.UTF_8)), "test.lock"));
        assertEquals("test.lock:3: expected [name] or key = value, got: this line is wrong", e.getMessage());
        var missing = "[cpu]\npackage = x\nversion = 1\n";
        var e2 = assertThrows(IOException.class, () -> PluginLock.parse(new ByteArrayInputStream(missing.getBytes(StandardCharsets.UTF_8)), "t.lock"));
        assertEquals("t.lock: plugin [cpu] has no 'wheel'", e2.getMessage());
    }

    @Test
    void bundledLockPinsEveryPlatform() {
        var lock = PluginLock.bundled();
        assertEquals("cpu, cuda12, cuda13, tpu", lock.names());
        assertEquals("xla-cpu-pjrt", lock.get("cpu").pkg());
        assertEquals("0.0.1", lock.get("cpu").version());
        assertEquals("jax-cuda13-pjrt", lock.get("cuda13").pkg());
        assertEquals("0.11.2", lock.get("cuda13").version());
        for (String n : lock.names().split(", ")) {
            assertTrue(lock.get(n).sha256().matches("[0-9a-f]{64}"), n);
        }
    }

    @Test
    void discoveryFindsPluginsInASitePackagesLayout(@TempDir Path site) throws IOException {
        Files.createDirectories(site.resolve("jax_plugins/xla_cuda13"));
        Files.writeString(site.resolve("jax_plugins/xla_cuda13/xla_cuda_plugin.so"), "");
        Files.createDirectories(site.resolve("libtpu"));
        Files.writeString(site.resolve("libtpu/libtpu.so"), "");
        Files.createDirectories(site.resolve("xla_plugins/xla_cpu_pjrt"));
        Files.writeString(site.resolve("xla_plugins/xla_cpu_pjrt/xla_cpu_pjrt.so"), "");
        var found = Plugins.scan(site, "python3");
        assertEquals(java.util.List.of("cuda13", "tpu", "cpu"), found.stream().map(Plugins.Found::name).toList());
    }
}
