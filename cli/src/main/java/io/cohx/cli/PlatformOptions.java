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
     * The client of one process of a multi-process run ({@code peers} null: {@link #client(int)}).
     * The plugin gets the coordinator as its key-value store; the GPU plugins also get
     * {@code node_id}/{@code num_nodes} (libtpu takes no such options: it finds the other hosts of
     * its slice itself, and JAX passes it only the store). The pinned CPU plugin runs one process,
     * so a multi-process run on it stops here with a clear message instead of training alone; so
     * does any plugin that comes up seeing only this process's devices.
     */
    public PjrtClient client(int cpuDevices, io.cohx.engine.dist.Coordination peers) {
        if (peers == null) {
            return client(cpuDevices);
        }
        var group = peers.group();
        if (platform.equals("cpu") && plugin == null) {
            peers.leave(); // every process stops here alike: no failure to report to the others
            throw new CohxUserError(group.describe() + ": multi-process execution needs a GPU or TPU plugin (--platform cuda12, cuda13"
                    + " or tpu); the PJRT CPU plugin runs programs in one process only. Run on one process (unset COHX_PROCESS_COUNT"
                    + " or pass --process-count 1), or on GPU/TPU hosts.");
        }
        installCompileCache();
        var found = Plugins.resolve(platform, plugin, msg -> System.err.println("cohx: " + msg));
        PjrtPlugin p = PjrtPlugin.load(found.library());
        String file = found.library().getFileName().toString();
        boolean gpu = platform.startsWith("cuda") || file.contains("cuda") || file.contains("gpu") || file.contains("rocm");
        Map<String, Object> options = gpu ? Map.of("node_id", (long) group.index(), "num_nodes", (long) group.count()) : Map.of();
        PjrtClient c = PjrtClient.create(p, options, peers.prefixed("pjrt/"));
        if (c.platformName().equals("cpu") || c.devices().size() == c.addressableDevices().size()) {
            String seen = c.platformName() + " plugin, " + c.devices().size() + " devices, all of them this process's";
            c.close();
            peers.leave();
            throw new CohxUserError(group.describe() + ": multi-process execution needs a GPU or TPU plugin that joins the other processes;"
                    + " " + found.library() + " came up alone (" + seen + "). Run on one process, or use --platform cuda12, cuda13 or tpu.");
        }
        if (c.processIndex() != group.index()) {
            int theirs = c.processIndex();
            c.close();
            throw new CohxUserError(group.describe() + ": the plugin says this is process " + theirs + "; give each host the index its"
                    + " plugin expects (on TPU, COHX_PROCESS_INDEX must be the worker number)");
        }
        return c;
    }

    /** Installs the compile cache every program of the command uses (unless turned off). */
    private void installCompileCache() {
        Path cacheDir = noCompileCache ? null : compileCache != null ? compileCache : CompileCache.defaultDir();
        CompileCache.install(cacheDir == null ? null
                : CompileCache.at(cacheDir, CompileCache.DEFAULT_MAX_BYTES, msg -> System.err.println("cohx: " + msg)));
    }

    /**
     * A client; on CPU with {@code cpuDevices} virtual devices. The CPU plugin is installed on first
     * use. Also installs the compile cache every program of the command uses (unless turned off).
     */
    public PjrtClient client(int cpuDevices) {
        installCompileCache();
        var found = Plugins.resolve(platform, plugin, msg -> System.err.println("cohx: " + msg));
        PjrtPlugin p = PjrtPlugin.load(found.library());
        return platform.equals("cpu") && plugin == null
                ? PjrtClient.create(p, Map.of("cpu_device_count", (long) cpuDevices))
                : PjrtClient.create(p);
    }
}
