package io.cohx.pjrt.plugins;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The pinned plugins of {@code native/plugins.lock}: for each name (cpu, cuda12, cuda13, tpu) the
 * Python package, version, exact wheel and sha256, and where the library sits inside the wheel.
 */
public record PluginLock(Map<String, Entry> entries) {

    /** One pinned plugin. {@code header} may be null (only some wheels ship pjrt_c_api.h). */
    public record Entry(String name, String pkg, String version, String wheel, String sha256,
                        String python, String platform, String library, String header) {
        /** Cache folder name: NAME-VERSION. */
        public String folderName() {
            return name + "-" + version;
        }

        /** File name of the library inside the cache folder. */
        public String libraryFileName() {
            return library.substring(library.lastIndexOf('/') + 1);
        }
    }

    // In module native, outside any package: found through the class loader on the class path and
    // on the module path alike (Class.getResourceAsStream would look in this module only).
    private static final String RESOURCE = "io/cohx/native/plugins.lock";

    /** The lock file bundled with cohx. */
    public static PluginLock bundled() {
        try (InputStream in = PluginLock.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("cohx is built without " + RESOURCE + " (module native); rebuild cohx");
            }
            return parse(in, "plugins.lock");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses the INI-like lock format; errors name the source and line. */
    static PluginLock parse(InputStream in, String source) throws IOException {
        var sections = new LinkedHashMap<String, Map<String, String>>();
        Map<String, String> current = null;
        var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String line;
        int no = 0;
        while ((line = reader.readLine()) != null) {
            no++;
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            if (t.startsWith("[") && t.endsWith("]")) {
                current = new LinkedHashMap<>();
                sections.put(t.substring(1, t.length() - 1).strip(), current);
            } else if (t.contains("=") && current != null) {
                int eq = t.indexOf('=');
                current.put(t.substring(0, eq).strip(), t.substring(eq + 1).strip());
            } else {
                throw new IOException(source + ":" + no + ": expected [name] or key = value, got: " + line);
            }
        }
        var entries = new LinkedHashMap<String, Entry>();
        for (var e : sections.entrySet()) {
            Map<String, String> m = e.getValue();
            for (String key : new String[] {"package", "version", "wheel", "sha256", "library"}) {
                if (!m.containsKey(key)) {
                    throw new IOException(source + ": plugin [" + e.getKey() + "] has no '" + key + "'");
                }
            }
            entries.put(e.getKey(), new Entry(e.getKey(), m.get("package"), m.get("version"), m.get("wheel"), m.get("sha256"),
                    m.get("python"), m.get("platform"), m.get("library"), m.get("header")));
        }
        return new PluginLock(Map.copyOf(entries));
    }

    public Optional<Entry> find(String name) {
        return Optional.ofNullable(entries.get(name));
    }

    /** The entry for {@code name}, or an error listing the valid names. */
    public Entry get(String name) {
        return find(name).orElseThrow(() -> new PluginException("unknown plugin '" + name + "'; valid names: " + names()));
    }

    /** Plugin names in lock-file order. */
    public String names() {
        return String.join(", ", entries.keySet().stream().sorted(PluginLock::byLockOrder).toList());
    }

    private static int byLockOrder(String a, String b) {
        var order = java.util.List.of("cpu", "cuda12", "cuda13", "tpu");
        int ia = order.indexOf(a), ib = order.indexOf(b);
        return ia >= 0 && ib >= 0 ? Integer.compare(ia, ib) : a.compareTo(b);
    }
}
