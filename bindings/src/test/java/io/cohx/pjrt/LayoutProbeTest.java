package io.cohx.pjrt;

import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Builds native/probe/pjrt_probe.c with gcc against the pjrt_c_api.h shipped in the pinned CPU
 * plugin wheel and checks every struct size and field offset in {@link Structs} against it.
 */
class LayoutProbeTest {

    @Test
    void javaLayoutsMatchTheRealHeader(@TempDir Path dir) throws Exception {
        Path header = TestPlugins.cpuHeader();
        Path src = dir.resolve("pjrt_probe.c");
        try (InputStream in = LayoutProbeTest.class.getResourceAsStream("/io/cohx/native/probe/pjrt_probe.c")) {
            assertTrue(in != null, "the probe source ships in the native module");
            Files.copy(in, src);
        }
        Path exe = dir.resolve("probe");
        run(dir, "gcc", "-std=c11", "-Wall", "-Werror", "-I", header.getParent().toString(), src.toString(), "-o", exe.toString());
        String out = run(dir, exe.toString());

        Map<String, Long> sizes = new HashMap<>();
        Map<String, Long> offsets = new HashMap<>();
        int minor = -1;
        for (String line : out.split("\n")) {
            String[] p = line.trim().split(" ");
            switch (p[0]) {
                case "version" -> minor = Integer.parseInt(p[2]);
                case "size" -> sizes.put(p[1], Long.parseLong(p[2]));
                case "field" -> offsets.put(p[1] + "." + p[2], Long.parseLong(p[3]));
                default -> fail("unexpected probe line: " + line);
            }
        }
        assertEquals(81, minor, "the pinned CPU plugin ships the 0.81 header");

        List<String> problems = new ArrayList<>();
        for (Struct s : Structs.all()) {
            for (var f : s.fields().entrySet()) {
                Long off = offsets.get(s.name() + "." + f.getKey());
                if (off == null) {
                    problems.add(s.name() + "." + f.getKey() + " is not printed by the probe (add it to pjrt_probe.c)");
                } else if (off.longValue() != f.getValue()) {
                    problems.add(s.name() + "." + f.getKey() + ": Java offset " + f.getValue() + ", header " + off);
                }
            }
            if (s.size() == 0) {
                continue; // PJRT_Api: size grows per version and is never sent
            }
            Long size = sizes.get(s.name());
            if (size == null) {
                problems.add(s.name() + " size is not printed by the probe");
            } else if (Structs.GROWN_AFTER_0_81.contains(s.name())) {
                if (s.size() <= size) {
                    problems.add(s.name() + " should be larger in 0.114 (" + s.size() + ") than in 0.81 (" + size + ")");
                }
            } else if (size != s.size()) {
                problems.add(s.name() + ": Java size " + s.size() + ", header " + size);
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        int javaFields = Structs.all().stream().mapToInt(s -> s.fields().size()).sum();
        assertTrue(offsets.size() >= javaFields, "probe printed " + offsets.size() + " offsets for " + javaFields + " Java fields");
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
