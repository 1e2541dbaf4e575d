package io.cohx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cohx.pjrt.testing.TestPlugins;
import java.io.IOException;
import java.lang.module.Configuration;
import java.lang.module.FindException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.lang.module.ResolvedModule;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The module boundaries of docs/ARCHITECTURE.md ("Module boundaries"), checked on the built
 * modules: every descriptor exports and opens exactly what the table there says; javac, given a
 * class inside each module that imports every cohx package, refuses exactly the packages that
 * module may not use; and the command line runs on the module path too, not only from the
 * class-path jar cohx ships.
 */
class ModuleBoundariesTest {
    static final Path ARCHITECTURE = Path.of("../docs/ARCHITECTURE.md");
    static final String SECTION = "## Module boundaries";

    /** A module's row of the table: what it exports and opens, each package to its targets (empty: to all). */
    record Row(String module, Map<String, Set<String>> exports, Map<String, Set<String>> opens) {}

    static Map<String, Row> documented;
    static List<Path> modulePath;
    static ModuleFinder finder;

    @BeforeAll
    static void setUp() throws IOException {
        documented = readTable(Files.readString(ARCHITECTURE));
        modulePath = modulePath(documented.keySet());
        finder = ModuleFinder.of(modulePath.toArray(Path[]::new));
    }

    /** Rows of the table under {@link #SECTION}: | folder | module | exports | opens |. */
    static Map<String, Row> readTable(String doc) {
        int at = doc.indexOf("\n" + SECTION + "\n");
        assertTrue(at >= 0, ARCHITECTURE + " has no section '" + SECTION + "'");
        var rows = new TreeMap<String, Row>();
        boolean inTable = false;
        for (String line : doc.substring(at + SECTION.length() + 2).split("\n")) {
            if (line.startsWith("## ")) {
                break;
            }
            if (!line.startsWith("|")) {
                if (inTable) {
                    break;
                }
                continue;
            }
            inTable = true;
            String[] cells = line.split("\\|", -1);
            if (cells.length < 5 || cells[2].contains("---") || !cells[2].contains("`")) {
                continue;
            }
            String module = names(cells[2]).getFirst();
            rows.put(module, new Row(module, targets(cells[3]), targets(cells[4])));
        }
        assertFalse(rows.isEmpty(), "no rows under '" + SECTION + "' in " + ARCHITECTURE);
        return rows;
    }

    /** {@code `a`, `b` to `m`; `c`}: a, b to m, and c to all. A cell without backquotes is empty. */
    static Map<String, Set<String>> targets(String cell) {
        var out = new TreeMap<String, Set<String>>();
        for (String group : cell.split(";")) {
            String[] parts = group.split(" to ", 2);
            Set<String> to = parts.length == 2 ? new TreeSet<>(names(parts[1])) : Set.of();
            for (String p : names(parts[0])) {
                out.put(p, to);
            }
        }
        return out;
    }

    static List<String> names(String s) {
        var out = new ArrayList<String>();
        Matcher m = Pattern.compile("`([\\w.]+)`").matcher(s);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /**
     * The test class path as a module path: our modules and every library with a descriptor, and of
     * the libraries without one (automatic modules) only those our modules require, since the
     * module system resolves all automatic modules it can see once it resolves one.
     */
    static List<Path> modulePath(Set<String> ours) {
        var automatic = new TreeMap<String, Path>();
        var explicit = new ArrayList<Path>();
        var required = new TreeSet<String>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path p = Path.of(entry);
            boolean candidate = Files.isRegularFile(p) ? p.toString().endsWith(".jar") && !p.toString().endsWith("-tests.jar")
                    : Files.isRegularFile(p.resolve("module-info.class"));
            if (!candidate) {
                continue;
            }
            ModuleReference ref;
            try {
                var found = ModuleFinder.of(p).findAll();
                if (found.size() != 1) {
                    continue;
                }
                ref = found.iterator().next();
            } catch (FindException e) {
                continue; // a jar the module system cannot name; none of ours requires it
            }
            if (ref.descriptor().isAutomatic()) {
                automatic.put(ref.descriptor().name(), p);
            } else {
                explicit.add(p);
                if (ours.contains(ref.descriptor().name())) {
                    ref.descriptor().requires().forEach(r -> required.add(r.name()));
                }
            }
        }
        var path = new ArrayList<>(explicit);
        automatic.forEach((name, p) -> {
            if (required.contains(name)) {
                path.add(p);
            }
        });
        return path;
    }

    static ModuleDescriptor descriptor(String module) {
        return finder.find(module).orElseThrow(() -> new AssertionError("module " + module + " is not on the test class path "
                + "(or has no module-info.class): " + modulePath)).descriptor();
    }

    @Test
    void descriptorsExportAndOpenWhatTheArchitectureSays() {
        // bench is built after cli, so its descriptor is not on cli's class path.
        var checked = documented.keySet().stream().filter(m -> !m.equals("io.cohx.bench")).toList();
        assertEquals(List.of("io.cohx.cli", "io.cohx.coh", "io.cohx.engine", "io.cohx.eval", "io.cohx.models", "io.cohx.pjrt",
                "io.cohx.plugins.lock", "io.cohx.serve"), checked);
        for (String m : checked) {
            ModuleDescriptor d = descriptor(m);
            assertFalse(d.isAutomatic() || d.isOpen(), m + " must be an explicit, not open, module");
            var exports = new TreeMap<String, Set<String>>();
            d.exports().forEach(e -> exports.put(e.source(), new TreeSet<>(e.targets())));
            var opens = new TreeMap<String, Set<String>>();
            d.opens().forEach(o -> opens.put(o.source(), new TreeSet<>(o.targets())));
            assertEquals(documented.get(m).exports(), exports, m + ": exports differ from " + ARCHITECTURE);
            assertEquals(documented.get(m).opens(), opens, m + ": opens differ from " + ARCHITECTURE);
        }
    }

    /**
     * For each module, a class inside it (compiled with --patch-module, as the module's own code is)
     * imports every package of every other cohx module (resource folders such as
     * {@code io/cohx/coh/data/sample} count as packages of their module, and stay inside). javac
     * must refuse exactly the packages of modules it does not read or that are not exported to it.
     */
    @Test
    void javacRefusesPackagesAModuleMayNotUse(@TempDir Path tmp) throws IOException {
        var ours = documented.keySet().stream().filter(m -> finder.find(m).isPresent()).toList();
        var packageOwner = new TreeMap<String, String>();
        for (String m : ours) {
            descriptor(m).packages().forEach(p -> packageOwner.put(p, m));
        }
        Configuration graph = ModuleLayer.boot().configuration().resolve(finder, ModuleFinder.of(), Set.of("io.cohx.cli"));
        var compiler = ToolProvider.getSystemJavaCompiler();
        String mp = modulePath.stream().map(Path::toString).collect(Collectors.joining(java.io.File.pathSeparator));
        var refusedBy = new TreeMap<String, Set<String>>();
        for (String m : ours) {
            if (descriptor(m).packages().isEmpty()) {
                continue; // io.cohx.plugins.lock: resources only, no package to put a probe in
            }
            ResolvedModule self = graph.findModule(m).orElseThrow();
            var expectRefused = new TreeSet<String>();
            packageOwner.forEach((pkg, owner) -> {
                if (!owner.equals(m) && !visible(self, graph.findModule(owner).orElseThrow(), pkg)) {
                    expectRefused.add(pkg);
                }
            });
            String probePackage = descriptor(m).packages().stream().sorted().findFirst().orElseThrow();
            Path src = tmp.resolve(m).resolve(probePackage.replace('.', '/')).resolve("BoundaryProbe.java");
            Files.createDirectories(src.getParent());
            var sb = new StringBuilder("package " + probePackage + ";\n");
            packageOwner.forEach((pkg, owner) -> {
                if (!owner.equals(m)) {
                    sb.append("import ").append(pkg).append(".*;\n");
                }
            });
            sb.append("final class BoundaryProbe {}\n");
            Files.writeString(src, sb);

            var diagnostics = new DiagnosticCollector<JavaFileObject>();
            try (var files = compiler.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8)) {
                var task = compiler.getTask(null, files, diagnostics,
                        List.of("--module-path", mp, "--patch-module", m + "=" + tmp.resolve(m), "--add-modules", m,
                                "-d", tmp.resolve("out-" + m).toString(), "-proc:none", "-Xmaxerrs", "10000"),
                        null, files.getJavaFileObjects(src));
                boolean ok = task.call();
                var refused = new TreeSet<String>();
                var other = new ArrayList<String>();
                for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                    if (d.getKind() != Diagnostic.Kind.ERROR) {
                        continue;
                    }
                    String msg = d.getMessage(Locale.ROOT);
                    Matcher pm = Pattern.compile("^([\\w.]+)").matcher(msg.replaceFirst("^package ", ""));
                    if ((d.getCode().equals("compiler.err.package.not.visible") || d.getCode().equals("compiler.err.doesnt.exist")) && pm.find()) {
                        refused.add(pm.group(1));
                    } else {
                        other.add(d.getCode() + ": " + msg);
                    }
                }
                assertEquals(List.of(), other, m + ": unexpected javac errors");
                assertEquals(expectRefused, refused, m + ": packages javac refused");
                assertEquals(expectRefused.isEmpty(), ok, m + ": javac result");
                refusedBy.put(m, refused);
            }
        }
        // Independently of the descriptors: coh reads models and the bindings (through requires
        // transitive) but not their internals, and the engine sees nothing of the modules above it.
        assertTrue(refusedBy.get("io.cohx.coh").containsAll(Set.of("io.cohx.models.llama", "io.cohx.models.tokenizer.jinja",
                "io.cohx.pjrt.capi", "io.cohx.eval", "io.cohx.cli")), refusedBy.get("io.cohx.coh").toString());
        assertFalse(refusedBy.get("io.cohx.coh").contains("io.cohx.models.checkpoint"), refusedBy.get("io.cohx.coh").toString());
        assertTrue(refusedBy.get("io.cohx.engine").containsAll(Set.of("io.cohx.models", "io.cohx.coh.train", "io.cohx.serve")),
                refusedBy.get("io.cohx.engine").toString());
    }

    /** Whether module {@code self} may use package {@code pkg} of module {@code owner}. */
    static boolean visible(ResolvedModule self, ResolvedModule owner, String pkg) {
        if (!self.reads().contains(owner)) {
            return false;
        }
        return owner.reference().descriptor().exports().stream()
                .anyMatch(e -> e.source().equals(pkg) && (!e.isQualified() || e.targets().contains(self.name())));
    }

    /**
     * The command line on the module path: picocli reaches the commands' fields (opens io.cohx.cli),
     * plugins.lock is found across modules, and native access is granted to io.cohx.pjrt by name,
     * the only module that calls restricted methods.
     */
    @Test
    void commandLineRunsOnTheModulePath() throws Exception {
        String mp = modulePath.stream().map(Path::toString).collect(Collectors.joining(java.io.File.pathSeparator));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String doctor = run(List.of(java, "--enable-native-access=io.cohx.pjrt", "-Xmx512m", "-XX:TieredStopAtLevel=1",
                "-p", mp, "-m", "io.cohx.cli/io.cohx.cli.Main", "plugins", "doctor", "--plugin", TestPlugins.cpuLibrary().toString()));
        assertTrue(doctor.contains("status:      OK"), doctor);
        assertTrue(doctor.contains("platform:    cpu"), doctor);
        String help = run(List.of(java, "--enable-native-access=io.cohx.pjrt", "-XX:TieredStopAtLevel=1",
                "-p", mp, "-m", "io.cohx.cli/io.cohx.cli.Main", "plugins", "install", "--help"));
        assertTrue(help.contains("Usage: cohx plugins install"), help);
    }

    /** Runs a JVM; its output (stdout and stderr) must hold no native-access or illegal-access warning. */
    static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + command);
        assertEquals(0, p.exitValue(), out);
        assertFalse(out.contains("restricted method") || out.contains("enable-native-access"), out);
        assertFalse(out.contains("InaccessibleObjectException") || out.contains("not open"), out);
        return out;
    }
}
