package io.cohx.engine;

import io.cohx.engine.mesh.Mesh;
import io.cohx.engine.mesh.PartitionSpec;
import io.cohx.engine.mesh.ShardedTransfer;
import io.cohx.pjrt.PjrtBuffer;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtDevice;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * An array in device memory with its engine type. Either on one device (one PJRT buffer), or
 * sharded over a {@link Mesh}: one buffer per mesh position holding that device's block as the
 * {@link PartitionSpec} lays it out, with {@link #type()} the global type. Results of a
 * {@link Jit} call stay on the device until {@link #toHost()} is called (which gathers the shards);
 * passing one to a call that donates it consumes it (it is deleted, and the call's output takes its place).
 */
public final class DeviceArray implements AutoCloseable {
    /** Partition order: shard p lives on {@code mesh.devices().get(p)}. */
    private final List<PjrtBuffer> shards;
    private final ArrayType type;
    private final Mesh mesh;
    private final PartitionSpec spec;

    DeviceArray(PjrtBuffer buffer) {
        this.shards = List.of(buffer);
        this.type = new ArrayType(DType.of(buffer.elementType()), Shape.of(buffer.dims()));
        this.mesh = null;
        this.spec = null;
    }

    private DeviceArray(List<PjrtBuffer> shards, ArrayType type, Mesh mesh, PartitionSpec spec) {
        this.shards = Collections.unmodifiableList(new ArrayList<>(shards)); // null: on another process
        this.type = type;
        this.mesh = mesh;
        this.spec = spec;
    }

    /**
     * A sharded array from per-partition buffers that already hold their blocks; the buffers'
     * shapes and devices are checked against {@code spec} on {@code mesh}. The array owns them.
     */
    public static DeviceArray ofShards(String name, List<PjrtBuffer> shards, ArrayType type, Mesh mesh, PartitionSpec spec) {
        long[] local = spec.localDims(name, type.shape().longDims(), mesh);
        if (shards.size() != mesh.size()) {
            throw new EngineException(name + ": " + shards.size() + " shards for a mesh of " + mesh.size() + " devices");
        }
        for (int p = 0; p < shards.size(); p++) {
            PjrtBuffer b = shards.get(p);
            if (b == null) {
                if (mesh.devices().get(p).isAddressable()) {
                    throw new EngineException(name + ": no shard for mesh position " + p + " (device " + mesh.devices().get(p).id()
                            + "), which is this process's");
                }
                continue; // another process holds it
            }
            if (!Arrays.equals(b.dims(), local) || DType.of(b.elementType()) != type.dtype()) {
                throw new EngineException(name + ": shard " + p + " is " + DType.of(b.elementType()) + Arrays.toString(b.dims())
                        + " but " + type + " split by " + spec + " on mesh " + mesh + " has " + type.dtype() + Arrays.toString(local)
                        + " per device");
            }
            if (!b.device().equals(mesh.devices().get(p))) {
                throw new EngineException(name + ": shard " + p + " is on device " + b.device().id() + " but mesh position " + p
                        + " is device " + mesh.devices().get(p).id());
            }
        }
        return new DeviceArray(shards, type, mesh, spec);
    }

    /** Copies a host array onto {@code device}. */
    public static DeviceArray put(PjrtClient client, NdArray a, PjrtDevice device) {
        return new DeviceArray(client.bufferFromHost(a.segment(), a.dtype().elementType(), a.shape().longDims(), device));
    }

    public static DeviceArray put(PjrtClient client, NdArray a) {
        return put(client, a, client.addressableDevices().getFirst());
    }

    /**
     * Puts a host array onto every device of {@code mesh}, each device getting only its block
     * under {@code spec}. {@code name} (the parameter path) goes into errors, e.g. a dimension
     * the mesh axes do not divide.
     */
    public static DeviceArray put(PjrtClient client, NdArray a, Mesh mesh, PartitionSpec spec, String name) {
        return put(client, a.segment(), a.type(), mesh, spec, name);
    }

    /**
     * Like {@link #put(PjrtClient, NdArray, Mesh, PartitionSpec, String)} from row-major data in
     * any memory segment, e.g. a memory-mapped checkpoint file: only one block at a time is copied
     * out of it, so a tensor is never read into the Java heap whole.
     */
    public static DeviceArray put(PjrtClient client, MemorySegment data, ArrayType type, Mesh mesh, PartitionSpec spec, String name) {
        List<PjrtBuffer> shards = ShardedTransfer.put(client, mesh, spec, name, data, type.dtype().elementType(), type.shape().longDims());
        return new DeviceArray(shards, type, mesh, spec);
    }

    /** The global type (for a sharded array, the type of the whole array, not of one shard). */
    public ArrayType type() {
        return type;
    }

    /** True when this array is split over a mesh (even a mesh of one device). */
    public boolean isSharded() {
        return mesh != null;
    }

    /** The mesh of a sharded array; null for a one-device array. */
    public Mesh mesh() {
        return mesh;
    }

    /** The layout of a sharded array; null for a one-device array. */
    public PartitionSpec spec() {
        return spec;
    }

    /**
     * The buffers, one per mesh position in partition order (one buffer for a one-device array);
     * null at positions on another process's devices.
     */
    public List<PjrtBuffer> shards() {
        return shards;
    }

    /** The buffer of a one-device array. */
    public PjrtBuffer buffer() {
        if (mesh != null) {
            throw new EngineException("device array " + type + " is sharded over mesh " + mesh + " (" + spec
                    + "); use shards() or toHost()");
        }
        return shards.getFirst();
    }

    /** Bytes this array occupies on each device that holds part of it (the largest shard). */
    public long bytesPerDevice() {
        long max = 0;
        for (PjrtBuffer b : shards) {
            if (b == null) {
                continue;
            }
            max = Math.max(max, b.onDeviceSizeInBytes());
        }
        return max;
    }

    /** True once donated to a call (or deleted): the data no longer exists. */
    public boolean isDeleted() {
        for (PjrtBuffer b : shards) {
            if (b != null && (b.isClosed() || b.isDeleted())) {
                return true;
            }
        }
        return false;
    }

    /** Copies the data to the host (waits for the computation producing it); a sharded array is gathered. */
    public NdArray toHost() {
        NdArray a = NdArray.zeros(type);
        copyTo(a.segment());
        return a;
    }

    /**
     * Writes the whole array, row-major, into {@code dst} (e.g. a region of a memory-mapped
     * checkpoint file), one shard at a time; replicas are read once.
     */
    public void copyTo(MemorySegment dst) {
        if (isDeleted()) {
            throw new EngineException("device array " + type + " was donated or closed; use the array the donating call returned");
        }
        long need = type.shape().size() * type.dtype().elementType().byteSize();
        if (dst.byteSize() < need) {
            throw new EngineException("device array " + type + " needs " + need + " bytes but the destination has " + dst.byteSize());
        }
        if (mesh == null) {
            shards.getFirst().toHost(dst);
        } else {
            ShardedTransfer.gather(mesh, spec, type.toString(), shards, dst, type.shape().longDims());
        }
    }

    /**
     * This array laid out by {@code spec} on {@code mesh} (another mesh shape, another spec, or a
     * one-device array onto a mesh), as a new array; this one stays valid (close it when done).
     * The data passes through the host one tensor at a time, so resharding a model tensor by
     * tensor never holds more than one tensor in host memory.
     */
    public DeviceArray reshard(PjrtClient client, Mesh mesh, PartitionSpec spec, String name) {
        if (isDeleted()) {
            throw new EngineException(name + ": device array " + type + " was donated or closed; it cannot be resharded");
        }
        NdArray host = toHost();
        return put(client, host, mesh, spec, name);
    }

    /** "mesh (dp=1, fsdp=8, mp=1) PS[fsdp, mp]", or "one device" — for error messages. */
    String placement() {
        return mesh == null ? "one device" : "mesh " + mesh + " as " + spec;
    }

    @Override
    public void close() {
        shards.stream().filter(Objects::nonNull).forEach(PjrtBuffer::close);
    }

    @Override
    public String toString() {
        return "DeviceArray " + type + (mesh == null ? "" : " on " + mesh + " " + spec) + (isDeleted() ? " (deleted)" : "");
    }
}
