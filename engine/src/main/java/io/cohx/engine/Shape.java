package io.cohx.engine;

import java.util.Arrays;

/**
 * The dimensions of an array, row-major. Immutable; {@code Shape.of()} is a scalar. Axis
 * arguments anywhere in the engine may be negative (counted from the end), as in numpy.
 */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) {
        this.dims = dims;
    }

    public static Shape of(int... dims) {
        for (int d : dims) {
            if (d < 0) {
                throw new EngineException("negative dimension in shape " + Arrays.toString(dims));
            }
        }
        return new Shape(dims.clone());
    }

    public static Shape of(long... dims) {
        int[] d = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            d[i] = Math.toIntExact(dims[i]);
        }
        return of(d);
    }

    public int rank() {
        return dims.length;
    }

    public int dim(int axis) {
        return dims[axis(axis)];
    }

    public int[] dims() {
        return dims.clone();
    }

    public long[] longDims() {
        long[] r = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            r[i] = dims[i];
        }
        return r;
    }

    /** Number of elements. */
    public long size() {
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        return n;
    }

    /** Normalizes a possibly negative axis; out of range is an error naming the shape. */
    public int axis(int axis) {
        int a = axis < 0 ? axis + dims.length : axis;
        if (a < 0 || a >= dims.length) {
            throw new EngineException("axis " + axis + " is out of range for shape " + this + " (rank " + dims.length + ")");
        }
        return a;
    }

    /** The shape with {@code axis} removed. */
    public Shape drop(int... axes) {
        boolean[] gone = new boolean[dims.length];
        for (int a : axes) {
            gone[axis(a)] = true;
        }
        int[] r = new int[dims.length];
        int k = 0;
        for (int i = 0; i < dims.length; i++) {
            if (!gone[i]) {
                r[k++] = dims[i];
            }
        }
        return new Shape(Arrays.copyOf(r, k));
    }

    public Shape with(int axis, int size) {
        int[] r = dims.clone();
        r[axis(axis)] = size;
        return of(r);
    }

    /** Row-major strides in elements. */
    long[] strides() {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= dims[i];
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** {@code [2,3]}; a scalar is {@code []}. */
    @Override
    public String toString() {
        var sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) {
            sb.append(i == 0 ? "" : ",").append(dims[i]);
        }
        return sb.append(']').toString();
    }
}
