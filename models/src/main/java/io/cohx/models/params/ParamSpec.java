package io.cohx.models.params;

import java.util.Arrays;

/** One parameter of a model: its canonical path (e.g. {@code transformer.h.3.attention.wq.kernel}) and shape. */
public record ParamSpec(String path, long[] shape) {
    public ParamSpec {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParamSpec p && path.equals(p.path) && Arrays.equals(shape, p.shape);
    }

    @Override
    public int hashCode() {
        return path.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return path + Arrays.toString(shape);
    }
}
