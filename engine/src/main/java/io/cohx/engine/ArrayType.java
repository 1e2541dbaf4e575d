package io.cohx.engine;

/**
 * The static type of an array value: its dtype and shape, printed as {@code f32[2,3]} in messages
 * and as {@code tensor<2x3xf32>} in MLIR.
 */
public record ArrayType(DType dtype, Shape shape) {

    public static ArrayType of(DType dtype, int... dims) {
        return new ArrayType(dtype, Shape.of(dims));
    }

    public String mlir() {
        var sb = new StringBuilder("tensor<");
        for (int d : shape.dims()) {
            sb.append(d).append('x');
        }
        return sb.append(dtype.mlir()).append('>').toString();
    }

    @Override
    public String toString() {
        return dtype + shape.toString();
    }
}
