package io.cohx.engine.mesh;

import io.cohx.pjrt.CompileOptions;
import io.cohx.pjrt.ElementType;
import io.cohx.pjrt.PjrtBuffer;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Meshes, partition specs and rules, sharded transfers and a Shardy-partitioned program on 8 CPU devices. */
class MeshTest {
    static final String[] LAYOUTS = {"8,1,1", "1,8,1", "1,1,8", "2,2,2", "1,4,2"};

    static PjrtClient client() {
        return TestPlugins.cpuClient(8);
    }

    @Test
    void parsesMeshDimLikeTheOriginal() {
        var devs = client().addressableDevices();
        assertArrayEquals(new int[] {1, 8, 1}, Mesh.parse("1,-1,1", devs).axisSizes());
        assertArrayEquals(new int[] {2, 2, 2}, Mesh.parse("2,2,2", devs).axisSizes());
        assertArrayEquals(new int[] {2, 4, 1}, Mesh.parse("2,-1", devs).axisSizes());
        assertArrayEquals(new int[] {1, 4, 2}, Mesh.parse("1,-1,2", devs).axisSizes());
        var m = Mesh.parse("2,2,2", devs);
        assertArrayEquals(new int[] {1, 0, 1}, m.coordinates(5));
        assertEquals("sdy.mesh @mesh = <[\"dp\"=2, \"fsdp\"=2, \"mp\"=2]>", m.sdyMesh("mesh"));
    }

    @Test
    void badMeshDimsNameTheProblem() {
        var devs = client().addressableDevices();
        var e = assertThrows(MeshException.class, () -> Mesh.parse("3,3,1", devs));
        assertTrue(e.getMessage().contains("has 9 positions but there are 8 devices"), e.getMessage());
        e = assertThrows(MeshException.class, () -> Mesh.parse("3,-1,1", devs));
        assertTrue(e.getMessage().contains("multiply to 3, which does not divide the 8 devices"), e.getMessage());
        e = assertThrows(MeshException.class, () -> Mesh.parse("-1,-1,1", devs));
        assertTrue(e.getMessage().contains("at most one dimension may be -1"), e.getMessage());
        e = assertThrows(MeshException.class, () -> Mesh.parse("1,x,1", devs));
        assertTrue(e.getMessage().contains("'x' (fsdp) is not an integer"), e.getMessage());
        e = assertThrows(MeshException.class, () -> Mesh.parse("1,1,1,1", devs));
        assertTrue(e.getMessage().contains("up to 3"), e.getMessage());
    }

    @Test
    void indivisibleDimensionNamesTensorAxisAndSizes() {
        var mesh = Mesh.parse("1,8,1", client().addressableDevices());
        var e = assertThrows(MeshException.class,
                () -> PartitionSpec.of("fsdp", "mp").localDims("transformer.h.0.attention.wq.kernel", new long[] {12, 16}, mesh));
        assertTrue(e.getMessage().startsWith("transformer.h.0.attention.wq.kernel: dimension 0 of shape [12, 16] has size 12")
                && e.getMessage().contains("[fsdp]") && e.getMessage().contains("8 ways"), e.getMessage());
    }

    @Test
    void llamaAndGptjRulesFollowTheSpec() {
        var l = PartitionRules.LLAMA;
        assertEquals(PartitionSpec.of("mp", "fsdp"), l.specFor("transformer.wte.embedding"));
        assertEquals(PartitionSpec.of("fsdp", "mp"), l.specFor("transformer.h.3.attention.wk.kernel"));
        assertEquals(PartitionSpec.of("mp", "fsdp"), l.specFor("transformer/h/3/attention/wo/kernel"));
        assertEquals(PartitionSpec.of("fsdp", "mp"), l.specFor("transformer.h.0.feed_forward.w3.kernel"));
        assertEquals(PartitionSpec.of("mp", "fsdp"), l.specFor("transformer.h.0.feed_forward.w2.kernel"));
        assertEquals(PartitionSpec.REPLICATED, l.specFor("transformer.h.0.attention_norm.kernel"));
        assertEquals(PartitionSpec.of("fsdp", "mp"), l.specFor("lm_head.kernel"));
        var g = PartitionRules.GPTJ;
        assertEquals(PartitionSpec.of("mp"), g.specFor("transformer.h.1.mlp.fc_in.bias"));
        assertEquals(PartitionSpec.REPLICATED, g.specFor("transformer.h.1.mlp.fc_out.bias"));
        assertEquals(PartitionSpec.of("mp"), g.specFor("lm_head.bias"));
        assertEquals(PartitionSpec.REPLICATED, g.specFor("transformer.h.1.ln_1.scale"));
    }

    @Test
    void rulesFileOverridesAndReportsLines(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("rules.txt"), "# custom\nwte -> None, fsdp+mp\n.* -> replicated\n");
        var rules = PartitionRules.read(f);
        assertEquals(PartitionSpec.ofGroups(List.of(List.of(), List.of("fsdp", "mp"))), rules.specFor("transformer.wte.embedding"));
        assertEquals(PartitionSpec.REPLICATED, rules.specFor("anything"));
        Path bad = Files.writeString(dir.resolve("bad.txt"), "wte -> fsdp\nlm_head -> tp\n");
        var e = assertThrows(IOException.class, () -> PartitionRules.read(bad));
        assertEquals(bad + ":2: unknown mesh axis 'tp'; axes are [dp, fsdp, mp]", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"8,1,1", "1,8,1", "1,1,8", "2,2,2", "1,4,2"})
    void putThenGatherRoundTripsEverySpec(String layout) {
        var c = client();
        var mesh = Mesh.parse(layout, c.addressableDevices());
        long[] dims = {16, 8};
        float[] values = new float[128];
        var rnd = new Random(7);
        for (int i = 0; i < values.length; i++) {
            values[i] = rnd.nextFloat();
        }
        for (PartitionSpec spec : List.of(PartitionSpec.of("fsdp", "mp"), PartitionSpec.of("mp", "fsdp"), PartitionRules.BATCH,
                PartitionSpec.REPLICATED, PartitionSpec.ofGroups(List.of(List.of(), List.of("dp", "mp"))))) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment host = arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
                List<PjrtBuffer> shards = ShardedTransfer.put(c, mesh, spec, "t", host, ElementType.F32, dims);
                long[] local = spec.localDims("t", dims, mesh);
                long perDevice = shards.getFirst().onDeviceSizeInBytes();
                assertEquals(Arrays.stream(local).reduce(1, (a, b) -> a * b) * 4, perDevice, spec + " on " + mesh);
                for (int p = 0; p < 8; p++) {
                    assertEquals(mesh.devices().get(p), shards.get(p).device());
                }
                MemorySegment back = arena.allocate(values.length * 4L);
                ShardedTransfer.gather(mesh, spec, "t", shards, back, dims);
                assertArrayEquals(values, back.toArray(ValueLayout.JAVA_FLOAT), spec + " on " + mesh);
                shards.forEach(PjrtBuffer::close);
            }
        }
    }

    @Test
    void fsdpReallyShardsParameters() {
        var c = client();
        var mesh = Mesh.parse("1,8,1", c.addressableDevices());
        try (Arena arena = Arena.ofConfined()) {
            long[] dims = {256, 128};
            MemorySegment host = arena.allocate(256 * 128 * 4L);
            var shards = ShardedTransfer.put(c, mesh, PartitionRules.LLAMA.specFor("transformer.h.0.attention.wq.kernel"), "wq", host,
                    ElementType.F32, dims);
            long perDevice = shards.getFirst().onDeviceSizeInBytes();
            assertEquals(256 * 128 * 4L / 8, perDevice);
            shards.forEach(PjrtBuffer::close);
        }
    }

    /** y = x·w with x split over (dp, fsdp) on rows and w over (fsdp, mp): Shardy partitions it on every layout. */
    @ParameterizedTest
    @ValueSource(strings = {"8,1,1", "1,8,1", "1,1,8", "2,2,2", "1,4,2"})
    void shardyPartitionedMatmulMatchesTheHost(String layout) {
        var c = client();
        var mesh = Mesh.parse(layout, c.addressableDevices());
        PartitionSpec xs = PartitionRules.BATCH, ws = PartitionSpec.of("fsdp", "mp"), ys = PartitionRules.BATCH;
        String prog = """
                module @mm attributes {mhlo.num_partitions = 8 : i32, mhlo.num_replicas = 1 : i32} {
                  MESH
                  func.func public @main(%x: tensor<8x16xf32> {sdy.sharding = XS}, %w: tensor<16x8xf32> {sdy.sharding = WS}) -> (tensor<8x8xf32> {sdy.sharding = YS}) {
                    %0 = "stablehlo.dot_general"(%x, %w) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>} : (tensor<8x16xf32>, tensor<16x8xf32>) -> tensor<8x8xf32>
                    return %0 : tensor<8x8xf32>
                  }
                }
                """.replace("MESH", mesh.sdyMesh("mesh")).replace("XS", xs.sdySharding("mesh", 2))
                .replace("WS", ws.sdySharding("mesh", 2)).replace("YS", ys.sdySharding("mesh", 2));
        float[] x = new float[128], w = new float[128], y = new float[64];
        var rnd = new Random(11);
        for (int i = 0; i < 128; i++) {
            x[i] = rnd.nextInt(7) - 3;
            w[i] = rnd.nextInt(5) - 2;
        }
        for (int r = 0; r < 8; r++) {
            for (int k = 0; k < 8; k++) {
                for (int j = 0; j < 16; j++) {
                    y[r * 8 + k] += x[r * 16 + j] * w[j * 8 + k];
                }
            }
        }
        var opts = CompileOptions.builder().numPartitions(8).spmd(true).shardy(true).devices(mesh.deviceIds()).build();
        try (var exe = c.compile(prog, opts); Arena arena = Arena.ofConfined()) {
            var xb = ShardedTransfer.put(c, mesh, xs, "x", arena.allocateFrom(ValueLayout.JAVA_FLOAT, x), ElementType.F32, new long[] {8, 16});
            var wb = ShardedTransfer.put(c, mesh, ws, "w", arena.allocateFrom(ValueLayout.JAVA_FLOAT, w), ElementType.F32, new long[] {16, 8});
            var args = new ArrayList<List<PjrtBuffer>>();
            for (int p = 0; p < 8; p++) {
                args.add(List.of(xb.get(p), wb.get(p)));
            }
            var outs = exe.execute(args);
            var yb = outs.stream().map(List::getFirst).toList();
            MemorySegment got = arena.allocate(64 * 4L);
            ShardedTransfer.gather(mesh, ys, "y", yb, got, new long[] {8, 8});
            assertArrayEquals(y, got.toArray(ValueLayout.JAVA_FLOAT), layout);
            yb.forEach(PjrtBuffer::close);
            xb.forEach(PjrtBuffer::close);
            wb.forEach(PjrtBuffer::close);
        }
    }
}
