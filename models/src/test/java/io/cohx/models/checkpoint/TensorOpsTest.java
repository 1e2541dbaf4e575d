package io.cohx.models.checkpoint;

import io.cohx.engine.DType;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TensorOpsTest {

    private static HostTensor iota(String name, long rows, long cols) {
        float[] v = new float[(int) (rows * cols)];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        return HostTensor.ofFloats(name, new long[] {rows, cols}, v);
    }

    @Test
    void transposeMovesEveryElement() {
        try (Arena a = Arena.ofConfined()) {
            for (DType d : List.of(DType.F32, DType.BF16, DType.F64)) {
                HostTensor t = TensorOps.cast(iota("x", 70, 131), d, a); // not multiples of the block size
                HostTensor tt = TensorOps.transpose2d(t, "y", a);
                assertArrayEquals(new long[] {131, 70}, tt.shape());
                for (int r = 0; r < 70; r++) {
                    for (int c = 0; c < 131; c++) {
                        if (t.getDouble(r * 131L + c) != tt.getDouble(c * 70L + r)) {
                            throw new AssertionError(d + " at " + r + "," + c);
                        }
                    }
                }
            }
        }
    }

    @Test
    void concatOnEachDimension() {
        try (Arena a = Arena.ofConfined()) {
            HostTensor p0 = HostTensor.ofFloats("p", new long[] {2, 2}, 1, 2, 3, 4);
            HostTensor p1 = HostTensor.ofFloats("p", new long[] {2, 2}, 5, 6, 7, 8);
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, TensorOps.concat(List.of(p0, p1), 0, "m", a).toFloats());
            assertArrayEquals(new float[] {1, 2, 5, 6, 3, 4, 7, 8}, TensorOps.concat(List.of(p0, p1), 1, "m", a).toFloats());
            assertArrayEquals(new float[] {1, 2, 3, 4}, TensorOps.concat(List.of(p0, p0), -1, "m", a).toFloats());
            assertThrows(CheckpointException.class, () -> TensorOps.concat(List.of(p0, p1), -1, "norm", a));
        }
    }

    @Test
    void permuteRows() {
        try (Arena a = Arena.ofConfined()) {
            HostTensor t = iota("x", 3, 2);
            assertArrayEquals(new float[] {4, 5, 0, 1, 2, 3}, TensorOps.permuteRows(t, new int[] {2, 0, 1}, a).toFloats());
        }
    }

    @Test
    void bridgesToTheEngineHostArray() {
        HostTensor t = HostTensor.ofFloats("w", new long[] {2, 3}, 1, 2, 3, 4, 5, 6.5f);
        var nd = t.toNdArray();
        assertArrayEquals(new long[] {2, 3}, nd.shape().longDims());
        assertArrayEquals(t.toFloats(), nd.toFloatArray());
        HostTensor back = HostTensor.of("w", nd);
        assertArrayEquals(t.toFloats(), back.toFloats());
        org.junit.jupiter.api.Assertions.assertEquals(DType.S64, DTypeNames.fromSafetensors(DTypeNames.of(DType.S64).safetensors()));
    }
}
