package io.cohx.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class SmokeTest {
    @Test
    void addAndMatmul() {
        var in = Tree.of("a", NdArray.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3), "b", NdArray.of(new float[] {1, 0, 0, 1, 1, 1}, 3, 2));
        var out = Run.once("smoke", in, t -> Tree.of("sum", t.get("a").add(1.0).sum(), "mm", t.get("a").matmul(t.get("b"))));
        assertArrayEquals(new float[] {27}, out.get("sum").toFloatArray());
        assertArrayEquals(new float[] {4, 5, 10, 11}, out.get("mm").toFloatArray());
    }
}
