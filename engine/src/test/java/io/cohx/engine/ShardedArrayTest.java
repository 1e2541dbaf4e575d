package io.cohx.engine;

import io.cohx.engine.mesh.Mesh;
import io.cohx.engine.mesh.MeshException;
import io.cohx.engine.mesh.PartitionSpec;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sharded device arrays without compiling anything: put, gather, reshard, and streaming through a memory-mapped file. */
class ShardedArrayTest {
    static PjrtClient client() {
        return TestPlugins.cpuClient(8);
    }

    static NdArray random(int rows, int cols) {
        Random r = new Random(rows * 31L + cols);
        NdArray a = NdArray.zeros(DType.F32, rows, cols);
        for (long i = 0; i < a.size(); i++) {
            a.set(i, r.nextGaussian());
        }
        return a;
    }

    /** A tensor saved shard by shard into a mapped file under 1,8,1 and loaded from the mapping under 2,2,2 with another spec. */
    @Test
    void streamsThroughAMappedFileAcrossMeshes(@TempDir Path dir) throws IOException {
        NdArray host = random(32, 16);
        Mesh fsdp = Mesh.parse("1,8,1", client().addressableDevices());
        Mesh mixed = Mesh.parse("2,2,2", client().addressableDevices());
        long bytes = host.size() * 4;
        Path file = dir.resolve("w.bin");
        try (DeviceArray a = DeviceArray.put(client(), host, fsdp, PartitionSpec.of("fsdp", "mp"), "w");
             Arena arena = Arena.ofConfined()) {
            assertEquals(bytes / 8, a.bytesPerDevice());
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                MemorySegment out = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
                a.copyTo(out);
                out.force();
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                MemorySegment in = ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes, arena);
                try (DeviceArray b = DeviceArray.put(client(), in, host.type(), mixed, PartitionSpec.of("mp", "fsdp"), "w")) {
                    assertArrayEquals(new long[] {16, 8}, b.shards().get(3).dims(), "mp=2 rows, fsdp=2 columns");
                    assertArrayEquals(host.toFloatArray(), b.toHost().toFloatArray());
                }
            }
        }
    }

    @Test
    void reshardsBetweenMeshesAndOntoAMeshFromOneDevice() {
        NdArray host = random(16, 8);
        Mesh mp = Mesh.parse("1,1,8", client().addressableDevices());
        Mesh dp = Mesh.parse("8,1,1", client().addressableDevices());
        try (DeviceArray one = DeviceArray.put(client(), host);
             DeviceArray a = one.reshard(client(), mp, PartitionSpec.of(null, "mp"), "x");
             DeviceArray b = a.reshard(client(), dp, PartitionSpec.of("dp"), "x")) {
            assertTrue(a.isSharded() && !one.isSharded());
            assertArrayEquals(new long[] {16, 1}, a.shards().getFirst().dims());
            assertArrayEquals(new long[] {2, 8}, b.shards().get(7).dims());
            assertEquals(dp.devices().get(7), b.shards().get(7).device());
            assertArrayEquals(host.toFloatArray(), b.toHost().toFloatArray());
            assertArrayEquals(host.toFloatArray(), a.toHost().toFloatArray(), "the source stays valid");
            var e = assertThrows(EngineException.class, a::buffer);
            assertTrue(e.getMessage().contains("is sharded over mesh"), e.getMessage());
        }
        try (DeviceArray odd = DeviceArray.put(client(), random(12, 8))) {
            var e = assertThrows(MeshException.class, () -> odd.reshard(client(), dp, PartitionSpec.of("dp"), "x"));
            assertTrue(e.getMessage().startsWith("x: dimension 0 of shape [12, 8] has size 12") && e.getMessage().contains("8 ways"),
                    e.getMessage());
        }
    }

    @Test
    void shardsMustMatchTheLayout() {
        Mesh mesh = Mesh.parse("1,8,1", client().addressableDevices());
        NdArray host = random(16, 8);
        try (DeviceArray a = DeviceArray.put(client(), host, mesh, PartitionSpec.of("fsdp"), "w")) {
            var e = assertThrows(EngineException.class,
                    () -> DeviceArray.ofShards("w", a.shards(), host.type(), mesh, PartitionSpec.of(null, "fsdp")));
            assertTrue(e.getMessage().startsWith("w: shard 0 is ") && e.getMessage().contains("[2, 8]")
                    && e.getMessage().contains("[16, 1] per device"), e.getMessage());
        }
    }
}
