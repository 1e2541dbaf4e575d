package io.cohx.cli;

import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtDevice;
import io.cohx.pjrt.PjrtException;
import io.cohx.pjrt.PjrtPlugin;
import io.cohx.pjrt.plugins.PluginException;
import io.cohx.pjrt.plugins.PluginInstaller;
import io.cohx.pjrt.plugins.PluginLock;
import io.cohx.pjrt.plugins.Plugins;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code cohx plugins}: install, list and check PJRT plugins. */
@Command(name = "plugins", mixinStandardHelpOptions = true,
        description = "Install, list and check PJRT plugins (cpu, cuda12, cuda13, tpu).",
        subcommands = {PluginsCommand.Install.class, PluginsCommand.ListPlugins.class, PluginsCommand.Doctor.class})
final class PluginsCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "install", mixinStandardHelpOptions = true,
            description = "Fetch a pinned plugin wheel with pip, verify its sha256 and install it into the cohx cache.")
    static final class Install implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "Plugin name: cpu, cuda12, cuda13 or tpu.")
        String name;

        @Override
        public Integer call() {
            PluginLock.Entry entry = PluginLock.bundled().get(name);
            Path lib = PluginInstaller.standard().install(entry, msg -> System.err.println("cohx: " + msg));
            System.out.println(lib);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Show plugins installed in the cohx cache and those found in Python environments (python3, $COHX_PYTHON).")
    static final class ListPlugins implements Callable<Integer> {
        @Override
        public Integer call() {
            PluginLock lock = PluginLock.bundled();
            System.out.println("cohx cache: " + PluginInstaller.defaultCacheRoot());
            var installed = Plugins.installed();
            for (String name : lock.names().split(", ")) {
                var e = lock.get(name);
                String where = installed.stream().filter(f -> f.name().equals(name)).map(f -> f.library().toString())
                        .findFirst().orElse("not installed (cohx plugins install " + name + ")");
                System.out.printf("  %-7s %s %s  %s%n", name, e.pkg(), e.version(), where);
            }
            var found = Plugins.discoverInPython();
            System.out.println("Python environments:" + (found.isEmpty() ? " none found" : ""));
            for (var f : found) {
                System.out.printf("  %-7s %s  (%s)%n", f.name(), f.library(), f.source());
            }
            return 0;
        }
    }

    @Command(name = "doctor", mixinStandardHelpOptions = true,
            description = "Load plugins and print platform, versions and devices. Without NAME: every plugin found.")
    static final class Doctor implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", arity = "0..1", description = "Plugin name (cpu, cuda12, cuda13, tpu).")
        String name;

        @Option(names = "--plugin", paramLabel = "PATH", description = "Check this plugin library instead of looking one up.")
        Path plugin;

        @Override
        public Integer call() {
            var targets = new ArrayList<Plugins.Found>();
            if (plugin != null || name != null) {
                targets.add(Plugins.resolve(name == null ? "cpu" : name, plugin));
            } else {
                String env = System.getenv("COHX_PJRT_PLUGIN");
                if (env != null && !env.isBlank()) {
                    targets.add(new Plugins.Found("(env)", Path.of(env), "COHX_PJRT_PLUGIN"));
                }
                targets.addAll(Plugins.installed());
                for (var f : Plugins.discoverInPython()) {
                    if (targets.stream().noneMatch(t -> t.library().equals(f.library()))) {
                        targets.add(f);
                    }
                }
                if (targets.isEmpty()) {
                    targets.add(Plugins.resolve("cpu", null, msg -> System.err.println("cohx: " + msg)));
                }
            }
            int failures = 0;
            for (var f : targets) {
                failures += check(f) ? 0 : 1;
            }
            return failures == 0 ? 0 : 1;
        }

        private static boolean check(Plugins.Found f) {
            System.out.println(f.name() + ": " + f.library() + "  [" + f.source() + "]");
            try {
                PjrtPlugin p = PjrtPlugin.load(f.library());
                System.out.println("  PJRT C API:  " + p.majorVersion() + "." + p.minorVersion()
                        + (p.minorVersion() > PjrtPlugin.BOUND_MINOR_VERSION ? " (newer than cohx's 0." + PjrtPlugin.BOUND_MINOR_VERSION + " layouts; fine)" : ""));
                Map<String, Object> attrs = new TreeMap<>();
                p.attributes().forEach((k, v) -> attrs.put(k, v instanceof long[] l
                        ? java.util.Arrays.stream(l).mapToObj(Long::toString).collect(Collectors.joining(".")) : v));
                attrs.forEach((k, v) -> System.out.println("  " + k + ": " + v));
                try (PjrtClient c = PjrtClient.create(p)) {
                    System.out.println("  platform:    " + c.platformName() + " " + c.platformVersion());
                    Map<String, Integer> kinds = new LinkedHashMap<>();
                    for (PjrtDevice d : c.addressableDevices()) {
                        kinds.merge(d.kind(), 1, Integer::sum);
                    }
                    System.out.println("  devices:     " + c.devices().size() + " (" + c.addressableDevices().size() + " addressable: "
                            + kinds.entrySet().stream().map(e -> e.getValue() + " x " + e.getKey()).collect(Collectors.joining(", ")) + ")");
                    List<String> mem = c.addressableDevices().getFirst().memories().stream().map(m -> m.kind()).toList();
                    System.out.println("  memories:    " + String.join(", ", mem));
                }
                System.out.println("  status:      OK");
                return true;
            } catch (PjrtException | PluginException e) {
                System.out.println("  status:      FAILED: " + e.getMessage());
                return false;
            }
        }
    }
}
