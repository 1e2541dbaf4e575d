package io.cohx.engine;

import io.cohx.engine.mesh.Mesh;
import io.cohx.engine.mesh.PartitionSpec;
import io.cohx.pjrt.CompileOptions;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The on-disk compile cache with the real CPU plugin: a second Jit loads what the first compiled
 * (one device and a mesh), damaged, truncated and foreign entries are skipped with a warning and
 * recompiled, concurrent writers leave one good entry, and the folder stays under its bound.
 */
class CompileCacheTest {
    final List<String> warnings = Collections.synchronizedList(new ArrayList<>());

    CompileCache cache(Path dir, long max) {
        return CompileCache.at(dir, max, warnings::add);
    }

    /** A small program whose text depends on {@code k}, so each k is another entry. */
    static Jit program(int k, CompileCache cache) {
        return Jit.builder("poly" + k, t -> Tree.of("y", t.get("x").mul(t.get("x")).add(k).tanh())).compileCache(cache)
                .build(Run.client());
    }

    static float[] run(Jit f) {
        Tree<DeviceArray> out = f.call(Tree.of("x", NdArray.of(new float[] {0.5f, -1, 2}, 3)));
        float[] r = out.get("y").toHost().toFloatArray();
        out.values().forEach(DeviceArray::close);
        return r;
    }

    static List<Path> entries(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".xla")).sorted().toList();
        }
    }

    @Test
    void aSecondJitLoadsTheExecutableInsteadOfCompiling(@TempDir Path dir) throws Exception {
        CompileCache c = cache(dir, CompileCache.DEFAULT_MAX_BYTES);
        float[] first;
        try (Jit f = program(1, c)) {
            first = run(f);
            assertEquals(1, f.compileCount());
        }
        assertEquals(1, entries(dir).size());
        try (Jit g = program(1, c)) {
            assertArrayEquals(first, run(g));
            assertEquals(0, g.compileCount(), "loaded from disk");
        }
        assertEquals(1, c.hits());
        assertEquals(1, c.misses());
        assertEquals(List.of(), warnings);
    }

    @Test
    void meshProgramsAreCachedWithTheirDevices(@TempDir Path dir) throws Exception {
        PjrtClient client = TestPlugins.cpuClient(8);
        Mesh mesh = Mesh.parse("2,1,4", client.addressableDevices());
        CompileCache c = cache(dir, CompileCache.DEFAULT_MAX_BYTES);
        PartitionSpec rows = PartitionSpec.of("dp", "mp");
        float[] x = new float[8 * 8];
        for (int i = 0; i < x.length; i++) {
            x[i] = i * 0.01f - 0.3f;
        }
        float[][] got = new float[2][];
        for (int round = 0; round < 2; round++) {
            try (Jit f = Jit.builder("sharded", t -> Tree.of("y", t.get("x").exp().sum(1))).compileCache(c)
                    .mesh(mesh, p -> rows, p -> PartitionSpec.of("dp")).build(client)) {
                Tree<DeviceArray> out = f.call(Tree.of("x", NdArray.of(x, 8, 8)));
                got[round] = out.get("y").toHost().toFloatArray();
                out.values().forEach(DeviceArray::close);
                assertEquals(round == 0 ? 1 : 0, f.compileCount(), "round " + round);
            }
        }
        assertArrayEquals(got[0], got[1]);
        assertEquals(List.of(), warnings);
    }

    @Test
    void aDamagedOrTruncatedEntryIsSkippedWithAWarningAndRewritten(@TempDir Path dir) throws Exception {
        CompileCache c = cache(dir, CompileCache.DEFAULT_MAX_BYTES);
        float[] want;
        try (Jit f = program(2, c)) {
            want = run(f);
        }
        Path entry = entries(dir).getFirst();
        byte[] good = Files.readAllBytes(entry);
        byte[] bad = good.clone();
        bad[bad.length / 2] ^= 0x5a; // a flipped byte inside the executable
        Files.write(entry, bad);
        try (Jit f = program(2, c)) {
            assertArrayEquals(want, run(f));
            assertEquals(1, f.compileCount(), "compiled again");
        }
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.getFirst().contains("damaged") && warnings.getFirst().contains(entry.toString()), warnings.getFirst());
        try (Jit f = program(2, c)) {
            assertArrayEquals(want, run(f));
            assertEquals(0, f.compileCount(), "the entry was written again, whole");
        }
        assertEquals(1, warnings.size(), warnings.toString());

        Files.write(entry, java.util.Arrays.copyOf(good, good.length / 3));
        try (Jit f = program(2, c)) {
            assertArrayEquals(want, run(f));
            assertEquals(1, f.compileCount());
        }
        assertTrue(warnings.get(1).contains("truncated"), warnings.get(1));

        Files.writeString(entry, "not an executable at all");
        try (Jit f = program(2, c)) {
            assertArrayEquals(want, run(f));
        }
        assertTrue(warnings.get(2).contains("not a cohx cache entry"), warnings.get(2));
    }

    @Test
    void anEntryWrittenForAnotherProgramOrPluginIsIgnored(@TempDir Path dir) throws Exception {
        CompileCache c = cache(dir, CompileCache.DEFAULT_MAX_BYTES);
        try (Jit f = program(3, c)) {
            run(f);
        }
        Path three = entries(dir).getFirst();
        float[] want;
        try (Jit f = program(4, c)) {
            want = run(f);
        }
        Path four = entries(dir).stream().filter(p -> !p.equals(three)).findFirst().orElseThrow();
        // Program 3's executable filed under program 4's name: loading it would compute the wrong function.
        Files.copy(three, four, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (Jit f = program(4, c)) {
            assertArrayEquals(want, run(f), "program 4, not program 3");
            assertEquals(1, f.compileCount());
        }
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.getFirst().contains("another program or plugin"), warnings.getFirst());
    }

    @Test
    void theKeyChangesWithTheProgramTheOptionsAndThePlugin() {
        String k = CompileCache.key("module {}", CompileOptions.DEFAULT, "plugin A");
        assertEquals(k, CompileCache.key("module {}", CompileOptions.DEFAULT, "plugin A"));
        assertNotEquals(k, CompileCache.key("module { }", CompileOptions.DEFAULT, "plugin A"));
        assertNotEquals(k, CompileCache.key("module {}", CompileOptions.builder().numPartitions(2).spmd(true).build(), "plugin A"));
        assertNotEquals(k, CompileCache.key("module {}", CompileOptions.DEFAULT, "plugin B"));
        String fp = cache(Path.of("unused"), 1).fingerprint(Run.client());
        assertTrue(fp.contains(Run.client().plugin().path().toString()) && fp.contains("mtime=") && fp.contains("devices=[cpu]"), fp);
    }

    @Test
    void theFolderStaysUnderItsBoundDroppingTheLeastRecentlyUsed(@TempDir Path dir) throws Exception {
        try (Jit f = program(5, cache(dir, CompileCache.DEFAULT_MAX_BYTES))) {
            run(f);
        }
        Path five = entries(dir).getFirst();
        long one = Files.size(five);
        CompileCache c = cache(dir, one * 2 + one / 2); // room for two entries
        try (Jit f = program(6, c)) {
            run(f);
        }
        Thread.sleep(20);
        try (Jit f = program(5, c)) {
            run(f); // a hit: program 5 is now the most recently used
            assertEquals(0, f.compileCount());
        }
        try (Jit f = program(7, c)) {
            run(f);
        }
        List<Path> left = entries(dir);
        assertEquals(2, left.size(), left.toString());
        assertTrue(left.contains(five), "the recently used entry stays; program 6's was dropped");
    }

    @Test
    void concurrentWritersLeaveOneGoodEntry(@TempDir Path dir) throws Exception {
        CompileCache c = cache(dir, CompileCache.DEFAULT_MAX_BYTES);
        float[] want;
        try (Jit f = Jit.builder("poly8", t -> Tree.of("y", t.get("x").mul(t.get("x")).add(8).tanh())).build(Run.client())) {
            want = run(f);
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<float[]>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                results.add(pool.submit(() -> {
                    try (Jit f = program(8, c)) {
                        return run(f);
                    }
                }));
            }
            for (Future<float[]> r : results) {
                assertArrayEquals(want, r.get());
            }
        }
        assertEquals(List.of(), warnings, "no reader ever saw a partial entry");
        assertEquals(1, entries(dir).size());
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary files left");
        }
        assertEquals(8, c.hits() + c.misses());
    }
}
