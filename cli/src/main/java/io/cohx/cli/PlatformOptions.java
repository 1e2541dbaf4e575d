package io.cohx.cli;

import io.cohx.engine.CompileCache;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtPlugin;
import io.cohx.pjrt.plugins.Plugins;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;

/** {@code --platform} and {@code --plugin} for commands that run programs; makes the PJRT client. */
public final class PlatformOptions {
    @Option(names = "--platform", defaultValue = "cpu", paramLabel = "NAME",
            description = "PJRT plugin to run on: cpu, cuda12, cuda13 or tpu (default: ${DEFAULT-VALUE}).")
    String platform = "cpu";

    @Option(names = "--plugin", paramLabel = "PATH", description = "Load this PJRT plugin library instead of looking one up.")
    Path plugin;

    @Option(names = "--cpu-devices", paramLabel = "N",
            description = "Virtual devices of the CPU plugin (default: the product of --mesh-dim when it has no -1, else 1).")
    Integer cpuDevices;

    @Option(names = "--no-compile-cache", description = "Compile every program afresh: neither read nor write the compile cache.")
    boolean noCompileCache;

    @Option(names = "--compile-cache", paramLabel = "DIR",
            description = "Folder of compiled programs kept between runs (default: $COHX_COMPILE_CACHE, else ~/.cache/cohx/compile).")
    Path compileCache;

    /** The CPU device count for a run on mesh {@code meshDim}. */
    int cpuDevicesFor(String meshDim) {
        if (cpuDevices != null) {
            return cpuDevices;
        }
        int n = 1;
        for (String part : meshDim.split(",")) {
            try {
                int v = Integer.parseInt(part.trim());
                if (v < 0) {
                    return 1;
                }
                n *= v;
            } catch (NumberFormatException e) {
                return 1; // Mesh.parse names the bad value
            }
        }
        return Math.max(1, n);
    }

    /**
     * A client; on CPU with {@code cpuDevices} virtual devices. The CPU plugin is installed on first
     * use. Also installs the compile cache every program of the command uses (unless turned off).
     */
    public PjrtClient client(int cpuDevices) {
        Path cacheDir = noCompileCache ? null : compileCache != null ? compileCache : CompileCache.defaultDir();
        CompileCache.install(cacheDir == null ? null
                : CompileCache.at(cacheDir, CompileCache.DEFAULT_MAX_BYTES, msg -> System.err.println("cohx: " + msg)));
        var found = Plugins.resolve(platform, plugin, msg -> System.err.println("cohx: " + msg));
        PjrtPlugin p = PjrtPlugin.load(found.library());
        return platform.equals("cpu") && plugin == null
                ? PjrtClient.create(p, Map.of("cpu_device_count", (long) cpuDevices))
                : PjrtClient.create(p);
    }
}
