package io.cohx.models.checkpoint;

import io.cohx.engine.DType;

import java.util.Arrays;

/**
 * What a checkpoint says about one tensor before its data is read: name, element type and
 * shape. Writers need the full list up front (safetensors puts every offset in its header).
 */
public record TensorInfo(String name, DType dtype, long[] shape) {
    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        return HostTensor.numel(shape);
    }

    public long byteSize() {
        return numel() * dtype.byteSize();
    }

    public TensorInfo withName(String n) {
        return new TensorInfo(n, dtype, shape);
    }

    public TensorInfo withDtype(DType d) {
        return new TensorInfo(name, d, shape);
    }

    public static TensorInfo of(HostTensor t) {
        return new TensorInfo(t.name(), t.dtype(), t.shape());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
