package io.cohx.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Compile cache, donation, device-resident results, call-time type checks and program dumps. */
class JitTest {

    @Test
    void sameShapesCompileOnceNewShapesCompileAgain(@TempDir Path dump) throws Exception {
        long before = Jit.totalCompiles();
        try (Jit f = Jit.builder("scale", t -> Tree.of("y", t.get("x").mul(2.0))).dumpTo(dump).build(Run.client())) {
            var a = f.call(Tree.of("x", NdArray.of(new float[] {1, 2}, 2)));
            var b = f.call(Tree.of("x", NdArray.of(new float[] {3, 4}, 2)));
            assertEquals(1, f.compileCount());
            assertArrayEquals(new float[] {6, 8}, b.get("y").toHost().toFloatArray());
            f.call(Tree.of("x", NdArray.of(new float[] {1, 2, 3}, 3)));
            assertEquals(2, f.compileCount(), "a new shape is a new program");
            assertEquals(2, Jit.totalCompiles() - before);
            a.get("y").close();
            b.get("y").close();
        }
        try (var files = Files.list(dump)) {
            var names = files.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(java.util.List.of("scale-1.mlir", "scale-2.mlir"), names);
        }
        assertTrue(Files.readString(dump.resolve("scale-1.mlir")).contains("\"stablehlo.multiply\""));
    }

    @Test
    void donatedInputIsConsumedAndTheOutputReturned() {
        try (Jit f = Jit.builder("update", t -> Tree.of("state", t.get("state").add(t.get("delta"))))
                .donate("state").build(Run.client())) {
            DeviceArray state = DeviceArray.put(Run.client(), NdArray.of(new float[] {1, 2, 3}, 3));
            DeviceArray delta = DeviceArray.put(Run.client(), NdArray.of(new float[] {10, 20, 30}, 3));
            Tree<DeviceArray> out = f.call(Tree.of("state", state, "delta", delta));
            assertTrue(state.isDeleted(), "the donated buffer is gone");
            assertFalse(delta.isDeleted(), "a non-donated input stays");
            assertArrayEquals(new float[] {11, 22, 33}, out.get("state").toHost().toFloatArray());
            assertTrue(f.mlir(Tree.of("state", out.get("state"), "delta", delta)).contains("tf.aliasing_output = 0 : i32"));
            var e = assertThrows(EngineException.class, () -> f.call(Tree.of("state", state, "delta", delta)));
            assertTrue(e.getMessage().contains("'state'") && e.getMessage().contains("donated"), e.getMessage());
            // The returned array can be donated again: the state lives on the device across steps.
            Tree<DeviceArray> again = f.call(Tree.of("state", out.get("state"), "delta", delta));
            assertTrue(out.get("state").isDeleted());
            assertArrayEquals(new float[] {21, 42, 63}, again.get("state").toHost().toFloatArray());
            again.get("state").close();
            delta.close();
        }
    }

    @Test
    void wrongDtypeAtCallTimeSaysWhatWasExpected() {
        try (Jit f = Jit.builder("typed", t -> Tree.of("y", t.get("x").exp()))
                .inputSpec(Tree.of("x", ArrayType.of(DType.F32, 2, 3))).build(Run.client())) {
            var e = assertThrows(EngineException.class, () -> f.call(Tree.of("x", NdArray.of(new int[6], 2, 3))));
            assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("s32[2,3]")
                    && e.getMessage().contains("f32 was expected"), e.getMessage());
            var e2 = assertThrows(EngineException.class, () -> f.call(Tree.of("x", NdArray.of(new float[3], 3))));
            assertTrue(e2.getMessage().contains("expected f32[2,3]"), e2.getMessage());
            assertEquals(0, f.compileCount());
        }
    }

    @Test
    void hostAndDeviceInputsMix() {
        try (Jit f = Jit.builder("mix", t -> Tree.of("y", t.get("a").mul(t.get("b")))).build(Run.client());
             DeviceArray a = DeviceArray.put(Run.client(), NdArray.of(new double[] {1.5, -2}, 2))) {
            var out = f.call(Tree.of("a", a, "b", NdArray.of(new double[] {2, 3}, 2)));
            assertArrayEquals(new double[] {3, -6}, out.get("y").toHost().toDoubleArray());
            out.get("y").close();
        }
    }
}
