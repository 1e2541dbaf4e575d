package io.cohx.engine;

import io.cohx.pjrt.PjrtBuffer;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtDevice;

/**
 * An array in device memory: a PJRT buffer with its engine type. Results of a {@link Jit} call
 * stay on the device until {@link #toHost()} is called; passing one to a call that donates it
 * consumes it (it is deleted, and the call's output takes its place).
 */
public final class DeviceArray implements AutoCloseable {
    private final PjrtBuffer buffer;
    private final ArrayType type;

    DeviceArray(PjrtBuffer buffer) {
        this.buffer = buffer;
        this.type = new ArrayType(DType.of(buffer.elementType()), Shape.of(buffer.dims()));
    }

    /** Copies a host array onto {@code device}. */
    public static DeviceArray put(PjrtClient client, NdArray a, PjrtDevice device) {
        return new DeviceArray(client.bufferFromHost(a.segment(), a.dtype().elementType(), a.shape().longDims(), device));
    }

    public static DeviceArray put(PjrtClient client, NdArray a) {
        return put(client, a, client.addressableDevices().getFirst());
    }

    public ArrayType type() {
        return type;
    }

    public PjrtBuffer buffer() {
        return buffer;
    }

    /** True once donated to a call (or deleted): the data no longer exists. */
    public boolean isDeleted() {
        return buffer.isClosed() || buffer.isDeleted();
    }

    /** Copies the data to the host (waits for the computation producing it). */
    public NdArray toHost() {
        if (isDeleted()) {
            throw new EngineException("device array " + type + " was donated or closed; use the array the donating call returned");
        }
        NdArray a = NdArray.zeros(type);
        buffer.toHost(a.segment());
        return a;
    }

    @Override
    public void close() {
        buffer.close();
    }

    @Override
    public String toString() {
        return "DeviceArray " + type + (isDeleted() ? " (deleted)" : "");
    }
}
