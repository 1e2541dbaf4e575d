package io.cohx.bench;

import io.cohx.pjrt.CompileOptions;
import io.cohx.pjrt.ElementType;
import io.cohx.pjrt.PjrtBuffer;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtDevice;
import io.cohx.pjrt.PjrtLoadedExecutable;
import io.cohx.pjrt.PjrtPlugin;
import io.cohx.pjrt.plugins.Plugins;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Leak benchmark for the PJRT binding: host→device→execute→host cycles on one compiled program,
 * printing resident memory before and after and the cycle rate as one JSON line. RSS must stay
 * flat: every buffer, event and error the binding touches is destroyed.
 * The first {@code -Dwarmup} cycles (default 10000) let the JIT, malloc arenas and heap settle.
 * Usage: {@code bench/run LeakBench [cycles]} (default 10000).
 */
public final class LeakBench {
    public static void main(String[] args) throws IOException {
        int cycles = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int n = 1024;
        String prog = """
                module @leak attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
                  func.func public @main(%a: tensor<1024xf32>, %b: tensor<1024xf32>) -> tensor<1024xf32> {
                    %0 = "stablehlo.multiply"(%a, %b) : (tensor<1024xf32>, tensor<1024xf32>) -> tensor<1024xf32>
                    %1 = "stablehlo.add"(%0, %a) : (tensor<1024xf32>, tensor<1024xf32>) -> tensor<1024xf32>
                    return %1 : tensor<1024xf32>
                  }
                }
                """;
        PjrtPlugin plugin = PjrtPlugin.load(Plugins.resolve("cpu", null, m -> System.err.println("bench: " + m)).library());
        try (PjrtClient client = PjrtClient.create(plugin, Map.of("cpu_device_count", 1L));
             PjrtLoadedExecutable exe = client.compile(prog, CompileOptions.DEFAULT);
             Arena arena = Arena.ofConfined()) {
            PjrtDevice dev = client.addressableDevices().getFirst();
            MemorySegment host = arena.allocate(4L * n, 64);
            MemorySegment out = arena.allocate(4L * n, 64);
            for (int i = 0; i < n; i++) {
                host.setAtIndex(ValueLayout.JAVA_FLOAT, i, i * 0.5f);
            }
            long[] dims = {n};
            int warmup = Integer.getInteger("warmup", 10_000); // JIT, malloc arenas and the heap settle first
            for (int i = 0; i < warmup; i++) {
                cycle(client, exe, dev, host, out, dims);
            }
            System.gc();
            long rssBefore = rssKiB();
            long t0 = System.nanoTime();
            for (int i = 0; i < cycles; i++) {
                cycle(client, exe, dev, host, out, dims);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.gc();
            long rssAfter = rssKiB();
            float check = out.getAtIndex(ValueLayout.JAVA_FLOAT, 3);
            if (check != 1.5f * 1.5f + 1.5f) {
                throw new IllegalStateException("wrong result " + check);
            }
            System.out.printf("{\"bench\":\"pjrt_leak\",\"cycles\":%d,\"rss_before_mib\":%.1f,\"rss_after_mib\":%.1f,"
                    + "\"rss_growth_mib\":%.1f,\"cycles_per_s\":%.0f}%n", cycles, rssBefore / 1024.0, rssAfter / 1024.0,
                    (rssAfter - rssBefore) / 1024.0, cycles / seconds);
        }
    }

    private static void cycle(PjrtClient client, PjrtLoadedExecutable exe, PjrtDevice dev, MemorySegment host, MemorySegment out, long[] dims) {
        try (PjrtBuffer a = client.bufferFromHost(host, ElementType.F32, dims, dev);
             PjrtBuffer b = client.bufferFromHost(host, ElementType.F32, dims, dev)) {
            List<List<PjrtBuffer>> res = exe.execute(List.of(List.of(a, b)));
            try (PjrtBuffer r = res.getFirst().getFirst()) {
                r.toHost(out);
            }
        }
    }

    static long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return -1;
    }
}
