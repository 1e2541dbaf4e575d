package io.cohx.pjrt.plugins;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Finds the plugin library to load. Order everywhere in cohx: an explicit {@code --plugin PATH},
 * then {@code $COHX_PJRT_PLUGIN}, then the cohx cache (installed by {@code cohx plugins install}),
 * then plugins already installed in a Python environment ({@code python3} and {@code $COHX_PYTHON}):
 * {@code jax_plugins/xla_cuda12|13/*.so}, {@code libtpu/libtpu.so}, {@code xla_plugins/*}{@code /*.so}.
 */
public final class Plugins {
    private Plugins() {}

    /** A plugin library and where it was found. */
    public record Found(String name, Path library, String source) {}

    /**
     * The library for plugin {@code name} (cpu, cuda12, cuda13, tpu), or an error naming the install
     * command. {@code explicit} (from --plugin) wins when non-null.
     */
    public static Found resolve(String name, Path explicit) {
        return resolve(name, explicit, null);
    }

    /**
     * Like {@link #resolve(String, Path)}, but when the CPU plugin is found nowhere and
     * {@code progress} is non-null, installs it into the cache (CPU is the default platform and
     * every machine can run it; GPU/TPU plugins are only installed on request).
     */
    public static Found resolve(String name, Path explicit, java.util.function.Consumer<String> progress) {
        try {
            return resolveOnly(name, explicit);
        } catch (PluginException e) {
            if (progress == null || !name.equals("cpu") || explicit != null) {
                throw e;
            }
            progress.accept("the PJRT CPU plugin is not installed yet; installing it (once)");
            Path lib = PluginInstaller.standard().install(PluginLock.bundled().get("cpu"), progress);
            return new Found(name, lib, "cohx cache");
        }
    }

    private static Found resolveOnly(String name, Path explicit) {
        PluginLock lock = PluginLock.bundled();
        if (explicit != null) {
            return new Found(name, explicit, "--plugin");
        }
        String env = System.getenv("COHX_PJRT_PLUGIN");
        if (env != null && !env.isBlank()) {
            return new Found(name, Path.of(env), "COHX_PJRT_PLUGIN");
        }
        PluginLock.Entry entry = lock.get(name);
        Optional<Path> cached = PluginInstaller.standard().installed(entry);
        if (cached.isPresent()) {
            return new Found(name, cached.get(), "cohx cache");
        }
        for (Found f : discoverInPython()) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        throw new PluginException("no PJRT plugin '" + name + "' found (looked at --plugin, COHX_PJRT_PLUGIN, the cohx cache "
                + PluginInstaller.defaultCacheRoot() + " and Python site-packages). Install it with: cohx plugins install " + name);
    }

    /** Plugins installed in the cohx cache. */
    public static List<Found> installed() {
        var out = new ArrayList<Found>();
        PluginInstaller inst = PluginInstaller.standard();
        PluginLock lock = PluginLock.bundled();
        for (String name : lock.names().split(", ")) {
            inst.installed(lock.get(name)).ifPresent(p -> out.add(new Found(name, p, "cohx cache")));
        }
        return out;
    }

    /** Plugins found in the site-packages of {@code python3} and {@code $COHX_PYTHON}. */
    public static List<Found> discoverInPython() {
        var pythons = new LinkedHashSet<String>();
        pythons.add("python3");
        String py = System.getenv("COHX_PYTHON");
        if (py != null && !py.isBlank()) {
            pythons.add(py);
        }
        var out = new ArrayList<Found>();
        var seen = new LinkedHashSet<Path>();
        for (String python : pythons) {
            for (Path site : sitePackages(python)) {
                for (Found f : scan(site, python)) {
                    if (seen.add(f.library())) {
                        out.add(f);
                    }
                }
            }
        }
        return out;
    }

    /** Plugin libraries under one site-packages folder. */
    static List<Found> scan(Path site, String python) {
        var out = new ArrayList<Found>();
        String source = python + " site-packages " + site;
        glob(site.resolve("jax_plugins"), "*", dir -> glob(dir, "*plugin*.so", so -> {
            String d = dir.getFileName().toString();
            String name = d.startsWith("xla_") ? d.substring(4) : d; // xla_cuda13 -> cuda13
            out.add(new Found(name, so, source));
        }));
        Path tpu = site.resolve("libtpu").resolve("libtpu.so");
        if (Files.isRegularFile(tpu)) {
            out.add(new Found("tpu", tpu, source));
        }
        glob(site.resolve("xla_plugins"), "*", dir -> glob(dir, "*.so", so -> {
            String d = dir.getFileName().toString();
            out.add(new Found(d.equals("xla_cpu_pjrt") ? "cpu" : d, so, source));
        }));
        return out;
    }

    private static void glob(Path dir, String pattern, java.util.function.Consumer<Path> each) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, pattern)) {
            ds.forEach(each);
        } catch (IOException ignored) {
            // An unreadable folder holds no plugin we could load anyway.
        }
    }

    private static List<Path> sitePackages(String python) {
        try {
            Process p = new ProcessBuilder(python, "-c",
                    "import site,sys\nfor p in site.getsitepackages()+[site.getusersitepackages()]+sys.path: print(p)")
                    .redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return List.of();
            }
            var out = new LinkedHashSet<Path>();
            for (String line : text.split("\n")) {
                if (!line.isBlank() && (line.endsWith("site-packages") || line.endsWith("dist-packages"))) {
                    Path path = Path.of(line.strip());
                    if (Files.isDirectory(path)) {
                        out.add(path);
                    }
                }
            }
            return List.copyOf(out);
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }
}
