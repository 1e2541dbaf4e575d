package io.cohx.pjrt;

import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static io.cohx.pjrt.testing.TestPlugins.bf16;
import static io.cohx.pjrt.testing.TestPlugins.f32;
import static io.cohx.pjrt.testing.TestPlugins.readBf16;
import static io.cohx.pjrt.testing.TestPlugins.readF32;
import static io.cohx.pjrt.testing.TestPlugins.readS32;
import static io.cohx.pjrt.testing.TestPlugins.s32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Compiles and runs StableHLO on the real CPU plugin: dtypes, devices, SPMD, serialization, donation. */
class ExecuteTest {

    static String binary(String op, String t) {
        return """
                module @m attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
                  func.func public @main(%a: tensor<2x3xT>, %b: tensor<2x3xT>) -> tensor<2x3xT> {
                    %0 = "stablehlo.OP"(%a, %b) : (tensor<2x3xT>, tensor<2x3xT>) -> tensor<2x3xT>
                    return %0 : tensor<2x3xT>
                  }
                }
                """.replace("OP", op).replace("T", t);
    }

    static String matmul(String t) {
        return """
                module @mm attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
                  func.func public @main(%a: tensor<2x3xT>, %b: tensor<3x2xT>) -> tensor<2x2xT> {
                    %0 = "stablehlo.dot_general"(%a, %b) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>} : (tensor<2x3xT>, tensor<3x2xT>) -> tensor<2x2xT>
                    return %0 : tensor<2x2xT>
                  }
                }
                """.replace("T", t);
    }

    static final float[] A = {1, 2, 3, 4, 5, 6};
    static final float[] B = {0.5f, -1, 2, 8, 0.25f, -3};
    // [[1,2,3],[4,5,6]] x [[0.5,-1],[2,8],[0.25,-3]]
    static final float[] AB = {1 * 0.5f + 2 * 2 + 3 * 0.25f, -1 + 16 - 9, 4 * 0.5f + 10 + 6 * 0.25f, -4 + 40 - 18};

    @Test
    void addAndMatmulF32() {
        PjrtClient c = TestPlugins.cpuClient(1);
        PjrtDevice d = c.addressableDevices().getFirst();
        try (var add = c.compile(binary("add", "f32"), CompileOptions.DEFAULT);
             var mm = c.compile(matmul("f32"), CompileOptions.DEFAULT);
             var a = f32(c, d, new long[] {2, 3}, A);
             var b = f32(c, d, new long[] {2, 3}, B);
             var b2 = f32(c, d, new long[] {3, 2}, B)) {
            var sum = add.execute(List.of(List.of(a, b))).getFirst().getFirst();
            float[] expect = new float[6];
            for (int i = 0; i < 6; i++) {
                expect[i] = A[i] + B[i];
            }
            assertArrayEquals(expect, readF32(sum));
            assertEquals(ElementType.F32, sum.elementType());
            assertArrayEquals(new long[] {2, 3}, sum.dims());
            var prod = mm.execute(List.of(List.of(a, b2))).getFirst().getFirst();
            assertArrayEquals(AB, readF32(prod), 1e-6f);
            assertEquals(List.of(ElementType.F32), mm.outputTypes());
            assertArrayEquals(new long[] {2, 2}, mm.outputDims().getFirst());
            sum.close();
            prod.close();
        }
    }

    @Test
    void addAndMatmulBf16() {
        PjrtClient c = TestPlugins.cpuClient(1);
        PjrtDevice d = c.addressableDevices().getFirst();
        // Values exactly representable in bf16, so sums and products are exact too.
        try (var add = c.compile(binary("add", "bf16"), CompileOptions.DEFAULT);
             var mm = c.compile(matmul("bf16"), CompileOptions.DEFAULT);
             var a = bf16(c, d, new long[] {2, 3}, A);
             var b = bf16(c, d, new long[] {2, 3}, B);
             var b2 = bf16(c, d, new long[] {3, 2}, B)) {
            assertEquals(ElementType.BF16, a.elementType());
            assertEquals(12, a.hostSizeInBytes());
            var sum = add.execute(List.of(List.of(a, b))).getFirst().getFirst();
            assertArrayEquals(new float[] {1.5f, 1, 5, 12, 5.25f, 3}, readBf16(sum));
            var prod = mm.execute(List.of(List.of(a, b2))).getFirst().getFirst();
            assertArrayEquals(AB, readBf16(prod), 1e-6f);
            sum.close();
            prod.close();
        }
    }

    @Test
    void addMulAndMatmulS32() {
        PjrtClient c = TestPlugins.cpuClient(1);
        PjrtDevice d = c.addressableDevices().getFirst();
        try (var mul = c.compile(binary("multiply", "i32"), CompileOptions.DEFAULT);
             var mm = c.compile(matmul("i32"), CompileOptions.DEFAULT);
             var a = s32(c, d, new long[] {2, 3}, 1, 2, 3, 4, 5, 6);
             var b = s32(c, d, new long[] {2, 3}, -7, 8, 100000, 2, 0, -1);
             var b2 = s32(c, d, new long[] {3, 2}, 1, -1, 2, 8, 3, -3)) {
            var prod = mul.execute(List.of(List.of(a, b))).getFirst().getFirst();
            assertArrayEquals(new int[] {-7, 16, 300000, 8, 0, -6}, readS32(prod));
            var m = mm.execute(List.of(List.of(a, b2))).getFirst().getFirst();
            assertArrayEquals(new int[] {1 + 4 + 9, -1 + 16 - 9, 4 + 10 + 18, -4 + 40 - 18}, readS32(m));
            prod.close();
            m.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"f64", "f16", "i64", "ui32", "ui8"})
    void roundTripsOtherDtypesThroughAnAdd(String t) {
        PjrtClient c = TestPlugins.cpuClient(1);
        PjrtDevice d = c.addressableDevices().getFirst();
        ElementType type = switch (t) {
            case "f64" -> ElementType.F64;
            case "f16" -> ElementType.F16;
            case "i64" -> ElementType.S64;
            case "ui32" -> ElementType.U32;
            default -> ElementType.U8;
        };
        byte[] bytes = new byte[6 * type.byteSize()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i % type.byteSize() == 0 ? i / type.byteSize() + 1 : 0); // small positive integers
        }
        if (type == ElementType.F64 || type == ElementType.F16) {
            var bb = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 6; i++) {
                if (type == ElementType.F64) {
                    bb.putDouble(i * 8, i + 1.5);
                } else {
                    bb.putShort(i * 2, Float.floatToFloat16(i + 1.5f));
                }
            }
        }
        try (var add = c.compile(binary("add", t), CompileOptions.DEFAULT);
             var a = c.bufferFromHost(bytes, type, new long[] {2, 3}, d)) {
            var out = add.execute(List.of(List.of(a, a))).getFirst().getFirst();
            var bb = java.nio.ByteBuffer.wrap(out.toHostBytes()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 6; i++) {
                double got = switch (type) {
                    case F64 -> bb.getDouble(i * 8);
                    case F16 -> Float.float16ToFloat(bb.getShort(i * 2));
                    case S64 -> bb.getLong(i * 8);
                    case U32 -> bb.getInt(i * 4);
                    default -> bb.get(i) & 0xff;
                };
                double want = (type == ElementType.F64 || type == ElementType.F16) ? 2 * (i + 1.5) : 2 * (i + 1);
                assertEquals(want, got, 0, t + " element " + i);
            }
            out.close();
        }
    }

    @Test
    void predBuffersRoundTrip() {
        PjrtClient c = TestPlugins.cpuClient(1);
        String and = binary("and", "i1");
        try (var exe = c.compile(and, CompileOptions.DEFAULT);
             var a = c.bufferFromHost(new byte[] {1, 1, 0, 0, 1, 0}, ElementType.PRED, new long[] {2, 3}, c.addressableDevices().getFirst());
             var b = c.bufferFromHost(new byte[] {1, 0, 1, 0, 1, 1}, ElementType.PRED, new long[] {2, 3}, c.addressableDevices().getFirst())) {
            var out = exe.execute(List.of(List.of(a, b))).getFirst().getFirst();
            assertEquals(ElementType.PRED, out.elementType());
            assertArrayEquals(new byte[] {1, 0, 0, 0, 1, 0}, out.toHostBytes());
            out.close();
        }
    }

    @Test
    void eightDevicesEachRunTheProgram() {
        PjrtClient c = TestPlugins.cpuClient(8);
        assertEquals(8, c.addressableDevices().size());
        assertEquals("cpu", c.platformName());
        for (PjrtDevice dev : c.addressableDevices()) {
            try (var exe = c.compile(binary("add", "f32"), CompileOptions.builder().devices(dev.id()).build());
                 var a = f32(c, dev, new long[] {2, 3}, A);
                 var b = f32(c, dev, new long[] {2, 3}, new float[] {dev.id(), dev.id(), dev.id(), dev.id(), dev.id(), dev.id()})) {
                assertEquals(List.of(dev), exe.addressableDevices());
                var out = exe.execute(List.of(List.of(a, b))).getFirst().getFirst();
                assertEquals(dev.id(), out.device().id());
                float[] got = readF32(out);
                for (int i = 0; i < 6; i++) {
                    assertEquals(A[i] + dev.id(), got[i]);
                }
                out.close();
            }
        }
    }

    @Test
    void replicatedProgramRunsOnAllEightDevicesInOneCall() {
        PjrtClient c = TestPlugins.cpuClient(8);
        int[][] assignment = new int[8][1];
        for (int r = 0; r < 8; r++) {
            assignment[r][0] = c.addressableDevices().get(r).id();
        }
        String prog = binary("add", "f32").replace("mhlo.num_replicas = 1", "mhlo.num_replicas = 8");
        try (var exe = c.compile(prog, CompileOptions.builder().numReplicas(8).deviceAssignment(assignment).build())) {
            var args = new ArrayList<List<PjrtBuffer>>();
            for (int r = 0; r < 8; r++) {
                PjrtDevice dev = exe.addressableDevices().get(r);
                args.add(List.of(f32(c, dev, new long[] {2, 3}, A), f32(c, dev, new long[] {2, 3}, r, r, r, r, r, r)));
            }
            var outs = exe.execute(args);
            assertEquals(8, outs.size());
            for (int r = 0; r < 8; r++) {
                assertEquals(A[5] + r, readF32(outs.get(r).getFirst())[5]);
                assertEquals(exe.addressableDevices().get(r), outs.get(r).getFirst().device());
            }
            outs.forEach(l -> l.forEach(PjrtBuffer::close));
            args.forEach(l -> l.forEach(PjrtBuffer::close));
        }
    }

    /** x[4,8] split over columns, w[8,2] over rows (Shardy): each device multiplies its halves, XLA adds them with an all-reduce. */
    @Test
    void twoPartitionShardedMatmulAllReduces() {
        PjrtClient c = TestPlugins.cpuClient(8);
        String prog = """
                module @sharded attributes {mhlo.num_partitions = 2 : i32, mhlo.num_replicas = 1 : i32} {
                  sdy.mesh @mesh = <["x"=2]>
                  func.func public @main(%x: tensor<4x8xf32> {sdy.sharding = #sdy.sharding<@mesh, [{}, {"x"}]>}, %w: tensor<8x2xf32> {sdy.sharding = #sdy.sharding<@mesh, [{"x"}, {}]>}) -> (tensor<4x2xf32> {sdy.sharding = #sdy.sharding<@mesh, [{}, {}]>}) {
                    %0 = "stablehlo.dot_general"(%x, %w) {dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>} : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
                    return %0 : tensor<4x2xf32>
                  }
                }
                """;
        PjrtDevice d0 = c.addressableDevices().get(0), d1 = c.addressableDevices().get(1);
        float[] x = new float[32], w = new float[16];
        for (int i = 0; i < 32; i++) {
            x[i] = (i % 7) - 3;
        }
        for (int i = 0; i < 16; i++) {
            w[i] = (i % 5) * 0.5f - 1;
        }
        float[] expect = new float[8];
        for (int r = 0; r < 4; r++) {
            for (int k = 0; k < 2; k++) {
                for (int j = 0; j < 8; j++) {
                    expect[r * 2 + k] += x[r * 8 + j] * w[j * 2 + k];
                }
            }
        }
        try (var exe = c.compile(prog, CompileOptions.builder().numPartitions(2).spmd(true).shardy(true).devices(d0.id(), d1.id()).build())) {
            var args = new ArrayList<List<PjrtBuffer>>();
            for (int p = 0; p < 2; p++) {
                float[] xs = new float[16];
                for (int r = 0; r < 4; r++) {
                    System.arraycopy(x, r * 8 + p * 4, xs, r * 4, 4);
                }
                float[] ws = java.util.Arrays.copyOfRange(w, p * 8, p * 8 + 8);
                PjrtDevice dev = exe.addressableDevices().get(p);
                args.add(List.of(f32(c, dev, new long[] {4, 4}, xs), f32(c, dev, new long[] {4, 2}, ws)));
            }
            assertArrayEquals(new long[] {4, 2}, exe.outputDims().getFirst());
            var outs = exe.execute(args);
            assertEquals(2, outs.size());
            assertArrayEquals(expect, readF32(outs.get(0).getFirst()), 1e-5f);
            assertArrayEquals(expect, readF32(outs.get(1).getFirst()), 1e-5f);
            outs.forEach(l -> l.forEach(PjrtBuffer::close));
            args.forEach(l -> l.forEach(PjrtBuffer::close));
        }
    }

    @Test
    void compiledMemoryStatsCountArgumentsAndOutputs() {
        PjrtClient c = TestPlugins.cpuClient(1);
        try (var mm = c.compile(matmul("f32"), CompileOptions.DEFAULT)) {
            var stats = mm.compiledMemoryStats();
            assertEquals((6 + 6) * 4, stats.arguments());
            assertEquals(4 * 4, stats.outputs());
            assertTrue(stats.temporaries() >= 0 && stats.generatedCode() >= 0, stats.toString());
        }
    }

    @Test
    void serializeThenDeserializeGivesIdenticalResults() {
        PjrtClient c = TestPlugins.cpuClient(1);
        PjrtDevice d = c.addressableDevices().getFirst();
        try (var mm = c.compile(matmul("f32"), CompileOptions.DEFAULT);
             var a = f32(c, d, new long[] {2, 3}, A);
             var b = f32(c, d, new long[] {3, 2}, B)) {
            byte[] bytes = mm.serialize();
            assertTrue(bytes.length > 100, "serialized executable has " + bytes.length + " bytes");
            try (var again = c.deserialize(bytes, mm.parameters())) {
                var one = mm.execute(List.of(List.of(a, b))).getFirst().getFirst();
                var two = again.execute(List.of(List.of(a, b))).getFirst().getFirst();
                assertArrayEquals(one.toHostBytes(), two.toHostBytes());
                assertArrayEquals(AB, readF32(two), 1e-6f);
                assertEquals(mm.numOutputs(), again.numOutputs());
                one.close();
                two.close();
            }
        }
    }

    @Test
    void donatedInputIsConsumedAndOutputReturned() {
        PjrtClient c = TestPlugins.cpuClient(1);
        PjrtDevice d = c.addressableDevices().getFirst();
        String prog = """
                module @donate attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
                  func.func public @main(%state: tensor<4xf32> {tf.aliasing_output = 0 : i32}, %delta: tensor<4xf32>) -> tensor<4xf32> {
                    %0 = "stablehlo.add"(%state, %delta) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
                    return %0 : tensor<4xf32>
                  }
                }
                """;
        try (var exe = c.compile(prog, CompileOptions.DEFAULT);
             var state = f32(c, d, new long[] {4}, 1, 2, 3, 4);
             var delta = f32(c, d, new long[] {4}, 10, 20, 30, 40)) {
            var out = exe.execute(List.of(List.of(state, delta))).getFirst().getFirst();
            assertTrue(state.isDeleted(), "the donated state buffer must be consumed");
            assertFalse(delta.isDeleted(), "a non-aliased input stays");
            assertArrayEquals(new float[] {11, 22, 33, 44}, readF32(out));
            // Using the donated buffer again is an exception, not a crash.
            var e = org.junit.jupiter.api.Assertions.assertThrows(PjrtException.class, () -> exe.execute(List.of(List.of(state, delta))));
            assertTrue(e.getMessage().contains("donated"), e.getMessage());
            // Explicitly non-donatable: the input survives.
            var out2 = exe.execute(List.of(List.of(out, delta)), java.util.Set.of(0)).getFirst().getFirst();
            assertFalse(out.isDeleted());
            assertArrayEquals(new float[] {21, 42, 63, 84}, readF32(out2));
            out.close();
            out2.close();
        }
    }
}
