package io.cohx.engine;

/**
 * Constant arrays in a traced program: splats of one value (any shape) and small host arrays
 * embedded as raw little-endian bytes. Weights should be arguments, not constants.
 */
public final class Constants {
    private Constants() {}

    /** A 0-d constant. */
    public static Tensor scalar(double value, DType dtype) {
        return full(value, dtype, Shape.of());
    }

    /** {@code value} in every element. */
    public static Tensor full(double value, DType dtype, Shape shape) {
        return Graph.current().add1(new Splat(dtype, value, null), new ArrayType(dtype, shape));
    }

    /** Every element set from raw bits (u32 values above 2^31, exact s64). */
    public static Tensor fullBits(long bits, DType dtype, Shape shape) {
        return Graph.current().add1(new Splat(dtype, 0, bits), new ArrayType(dtype, shape));
    }

    public static Tensor zeros(DType dtype, int... dims) {
        return full(0, dtype, Shape.of(dims));
    }

    public static Tensor zerosLike(Tensor t) {
        return full(0, t.dtype(), t.shape());
    }

    public static Tensor onesLike(Tensor t) {
        return full(1, t.dtype(), t.shape());
    }

    /** A host array as a constant of the program (copied into the MLIR text). */
    public static Tensor of(NdArray a) {
        if (a.dtype() == DType.PRED) {
            return Elementwise.compare(Elementwise.Direction.NE, of(a.convert(DType.U8)), scalar(0, DType.U8));
        }
        return Graph.current().add1(new Dense(a.toBytes()), a.type());
    }

    record Splat(DType dtype, double value, Long bits) implements Op {
        @Override
        public String name() {
            return "constant";
        }

        @Override
        public void emit(Emitter e, Node n) {
            String lit = bits != null ? Emitter.literalBits(dtype, bits) : Emitter.literal(dtype, value);
            e.line(e.results(n) + " = \"stablehlo.constant\"() {value = dense<" + lit + "> : " + n.types[0].mlir()
                    + "} : () -> " + n.types[0].mlir());
        }

        @Override
        public boolean differentiable() {
            return false;
        }
    }

    record Dense(byte[] bytes) implements Op {
        @Override
        public String name() {
            return "constant";
        }

        @Override
        public void emit(Emitter e, Node n) {
            var hex = new StringBuilder(bytes.length * 2 + 2).append("0x");
            for (byte b : bytes) {
                hex.append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xF, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xF, 16)));
            }
            e.line(e.results(n) + " = \"stablehlo.constant\"() {value = dense<\"" + hex + "\"> : " + n.types[0].mlir()
                    + "} : () -> " + n.types[0].mlir());
        }

        @Override
        public boolean differentiable() {
            return false;
        }
    }
}
