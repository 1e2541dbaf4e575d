package io.cohx.pjrt;

import io.cohx.pjrt.capi.PjrtCApi;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks the jextract-generated layouts against gcc: writes a C probe that prints {@code sizeof},
 * {@code *_STRUCT_SIZE} and {@code offsetof} of every field of every generated struct, and the
 * value of every generated constant, builds it against the pjrt_c_api.h shipped in the pinned CPU
 * wheel and compares. The binding uses no layout but the generated ones, so this covers all of
 * them; a second compiler reading the same header catches a libclang/gcc disagreement too.
 */
class LayoutProbeTest {

    /** Every generated struct, by C name, from the compiled {@code io.cohx.pjrt.capi} package. */
    static Map<String, GroupLayout> generatedStructs() throws IOException, URISyntaxException, ReflectiveOperationException {
        Path dir = Path.of(PjrtCApi.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve(PjrtCApi.class.getPackageName().replace('.', '/'));
        List<String> classes;
        try (Stream<Path> files = Files.list(dir)) {
            classes = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".class") && !n.contains("$") && !n.equals("package-info.class"))
                    .map(n -> n.substring(0, n.length() - ".class".length())).sorted().toList();
        }
        var structs = new LinkedHashMap<String, GroupLayout>();
        for (String name : classes) {
            Class<?> c = Class.forName(PjrtCApi.class.getPackageName() + "." + name);
            try {
                Method layout = c.getMethod("layout");
                if (GroupLayout.class.isAssignableFrom(layout.getReturnType())) {
                    structs.put(name, (GroupLayout) layout.invoke(null));
                }
            } catch (NoSuchMethodException e) {
                // a callback type or the header class
            }
        }
        return structs;
    }

    /** Every generated constant (enum values, version macros, struct sizes), by C name. */
    static Map<String, Long> generatedConstants() throws ReflectiveOperationException {
        var constants = new LinkedHashMap<String, Long>();
        for (Method m : PjrtCApi.class.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == 0
                    && (m.getReturnType() == int.class || m.getReturnType() == long.class)) {
                constants.put(m.getName(), ((Number) m.invoke(null)).longValue());
            }
        }
        return constants;
    }

    /** Field name to offset, entering anonymous unions/structs as C's offsetof does. */
    static void fields(GroupLayout group, long base, Map<String, Long> out) {
        long offset = base;
        for (MemoryLayout member : group.memberLayouts()) {
            long at = group instanceof StructLayout ? offset : base;
            if (!(member instanceof PaddingLayout)) {
                String name = member.name().orElseThrow(() -> new AssertionError(group + " has an unnamed member"));
                if (member instanceof GroupLayout inner && name.startsWith("$anon$")) {
                    fields(inner, at, out);
                } else {
                    out.put(name, at);
                }
            }
            offset += member.byteSize();
        }
    }

    @Test
    void generatedLayoutsMatchGccOnThePinnedHeader(@TempDir Path dir) throws Exception {
        Map<String, GroupLayout> structs = generatedStructs();
        Map<String, Long> constants = generatedConstants();
        assertTrue(structs.size() > 50 && structs.containsKey("PJRT_Api") && structs.containsKey("PJRT_Client_Create_Args"),
                "found the generated structs: " + structs.keySet());

        var expected = new ArrayList<String>();
        var c = new StringBuilder("#include <stddef.h>\n#include <stdio.h>\n#include \"pjrt_c_api.h\"\nint main(void) {\n");
        for (var s : structs.entrySet()) {
            String name = s.getKey();
            Long structSize = constants.get(name + "_STRUCT_SIZE");
            assertTrue(structSize != null, name + " has no generated " + name + "_STRUCT_SIZE");
            c.append("  printf(\"size %s %zu %zu\\n\", \"").append(name).append("\", sizeof(").append(name).append("), (size_t)")
                    .append(name).append("_STRUCT_SIZE);\n");
            expected.add("size " + name + " " + s.getValue().byteSize() + " " + structSize);
            var offsets = new LinkedHashMap<String, Long>();
            fields(s.getValue(), 0, offsets);
            for (var f : offsets.entrySet()) {
                c.append("  printf(\"field %s %s %zu\\n\", \"").append(name).append("\", \"").append(f.getKey())
                        .append("\", offsetof(").append(name).append(", ").append(f.getKey()).append("));\n");
                expected.add("field " + name + " " + f.getKey() + " " + f.getValue());
            }
        }
        for (var k : constants.entrySet()) {
            c.append("  printf(\"const %s %lld\\n\", \"").append(k.getKey()).append("\", (long long)").append(k.getKey()).append(");\n");
            expected.add("const " + k.getKey() + " " + k.getValue());
        }
        c.append("  return 0;\n}\n");

        Path header = TestPlugins.cpuHeader();
        Path src = dir.resolve("pjrt_probe.c");
        Files.writeString(src, c);
        Path exe = dir.resolve("probe");
        run(dir, "gcc", "-std=c11", "-Wall", "-Werror", "-I", header.getParent().toString(), src.toString(), "-o", exe.toString());
        List<String> actual = List.of(run(dir, exe.toString()).split("\n"));

        var problems = new ArrayList<String>();
        for (int i = 0; i < expected.size(); i++) {
            if (!expected.get(i).equals(actual.get(i))) {
                problems.add("generated: " + expected.get(i) + "\n      gcc: " + actual.get(i));
            }
        }
        assertEquals(expected.size(), actual.size(), "probe line count");
        assertTrue(problems.isEmpty(), "generated layouts disagree with gcc on " + header + " (regenerate with"
                + " tools/jextract/generate-pjrt-bindings.sh):\n" + String.join("\n", problems));
        assertTrue(expected.size() > 400, "the probe checked " + expected.size() + " sizes, offsets and constants");
    }

    private static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot run " + cmd[0] + " (the layout probe needs gcc; install it, e.g. apt-get install gcc)", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + " failed:\n" + out);
        return out;
    }
}
