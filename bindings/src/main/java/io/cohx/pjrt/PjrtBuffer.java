package io.cohx.pjrt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * An array on one device. Element type and dimensions are read once at creation. Donating the
 * buffer to an execution consumes it ({@link #isDeleted()} becomes true; only close stays legal).
 * Read-only methods may be called from several threads; close from one.
 */
public final class PjrtBuffer extends NativeResource {
    private final PjrtClient client;
    private final ElementType type;
    private final long[] dims;

    PjrtBuffer(PjrtClient client, MemorySegment ptr) {
        super("PjrtBuffer", ptr, p -> destroy(client.api, p), client);
        this.client = client;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = Api.args(arena, Structs.BUFFER_ELEMENT_TYPE);
            a.set(ADDRESS, Structs.BUFFER_ELEMENT_TYPE.off("buffer"), ptr);
            client.api.call("PJRT_Buffer_ElementType", a);
            this.type = ElementType.ofCode(a.get(JAVA_INT, Structs.BUFFER_ELEMENT_TYPE.off("type")));
            MemorySegment d = Api.args(arena, Structs.BUFFER_DIMENSIONS);
            d.set(ADDRESS, Structs.BUFFER_DIMENSIONS.off("buffer"), ptr);
            client.api.call("PJRT_Buffer_Dimensions", d);
            long n = d.get(JAVA_LONG, Structs.BUFFER_DIMENSIONS.off("num_dims"));
            this.dims = n == 0 ? new long[0] : d.get(ADDRESS, Structs.BUFFER_DIMENSIONS.off("dims")).reinterpret(8 * n).toArray(JAVA_LONG);
        }
    }

    private static void destroy(Api api, MemorySegment p) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = Api.args(arena, Structs.BUFFER_DESTROY);
            a.set(ADDRESS, Structs.BUFFER_DESTROY.off("buffer"), p);
            api.call("PJRT_Buffer_Destroy", a);
        }
    }

    public ElementType elementType() {
        return type;
    }

    /** Dimensions (a copy). */
    public long[] dims() {
        return dims.clone();
    }

    /** Number of elements. */
    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /** Bytes of the dense row-major host copy. */
    public long hostSizeInBytes() {
        return elementCount() * type.byteSize();
    }

    public long onDeviceSizeInBytes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = Api.args(arena, Structs.BUFFER_ON_DEVICE_SIZE);
            a.set(ADDRESS, Structs.BUFFER_ON_DEVICE_SIZE.off("buffer"), ptr());
            client.api.call("PJRT_Buffer_OnDeviceSizeInBytes", a);
            return a.get(JAVA_LONG, Structs.BUFFER_ON_DEVICE_SIZE.off("on_device_size_in_bytes"));
        }
    }

    public PjrtDevice device() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = Api.args(arena, Structs.BUFFER_DEVICE);
            a.set(ADDRESS, Structs.BUFFER_DEVICE.off("buffer"), ptr());
            client.api.call("PJRT_Buffer_Device", a);
            return client.deviceAt(a.get(ADDRESS, Structs.BUFFER_DEVICE.off("device")));
        }
    }

    /** True if the device memory was released (donated or deleted). */
    public boolean isDeleted() {
        if (isClosed()) {
            return true;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = Api.args(arena, Structs.BUFFER_IS_DELETED);
            a.set(ADDRESS, Structs.BUFFER_IS_DELETED.off("buffer"), ptr());
            client.api.call("PJRT_Buffer_IsDeleted", a);
            return a.get(JAVA_BOOLEAN, Structs.BUFFER_IS_DELETED.off("is_deleted"));
        }
    }

    /** A future completed when the buffer's contents are ready on the device. */
    public PjrtEvent readyEvent() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = Api.args(arena, Structs.BUFFER_READY_EVENT);
            a.set(ADDRESS, Structs.BUFFER_READY_EVENT.off("buffer"), ptr());
            client.api.call("PJRT_Buffer_ReadyEvent", a);
            return new PjrtEvent(client.api, a.get(ADDRESS, Structs.BUFFER_READY_EVENT.off("event")));
        }
    }

    /** Copies the buffer into {@code dst} (dense, row-major) and waits for the copy. */
    public void toHost(MemorySegment dst) {
        long need = hostSizeInBytes();
        if (dst.byteSize() < need) {
            throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "toHost: destination has " + dst.byteSize() + " bytes, buffer "
                    + type + Arrays.toString(dims) + " needs " + need);
        }
        if (isDeleted()) {
            throw new PjrtException(ErrorCode.FAILED_PRECONDITION, "toHost: buffer " + type + Arrays.toString(dims) + " was donated or deleted");
        }
        try (Arena arena = Arena.ofConfined()) {
            Struct ls = Structs.BUFFER_MEMORY_LAYOUT;
            Struct ts = Structs.BUFFER_MEMORY_LAYOUT_TILED;
            MemorySegment layout = Api.args(arena, ls);
            MemorySegment tiled = layout.asSlice(ls.off("tiled"), ts.size());
            tiled.set(JAVA_LONG, 0, ts.size());
            long[] minorToMajor = new long[dims.length];
            for (int i = 0; i < dims.length; i++) {
                minorToMajor[i] = dims.length - 1 - i;
            }
            tiled.set(ADDRESS, ts.off("minor_to_major"), dims.length == 0 ? MemorySegment.NULL : arena.allocateFrom(JAVA_LONG, minorToMajor));
            tiled.set(JAVA_LONG, ts.off("minor_to_major_size"), dims.length);
            layout.set(JAVA_INT, ls.off("type"), 0);

            Struct s = Structs.BUFFER_TO_HOST;
            MemorySegment a = Api.args(arena, s);
            a.set(ADDRESS, s.off("src"), ptr());
            a.set(ADDRESS, s.off("host_layout"), layout);
            a.set(ADDRESS, s.off("dst"), dst);
            a.set(JAVA_LONG, s.off("dst_size"), need);
            client.api.call("PJRT_Buffer_ToHostBuffer", a);
            new PjrtEvent(client.api, a.get(ADDRESS, s.off("event"))).awaitAndClose();
        }
    }

    /** The buffer's contents as bytes (dense, row-major, little-endian). */
    public byte[] toHostBytes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(Math.max(1, hostSizeInBytes()), 64);
            toHost(seg);
            return seg.asSlice(0, hostSizeInBytes()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    /** Releases the device memory now but keeps the handle (only close and isDeleted stay legal). */
    public void delete() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = Api.args(arena, Structs.BUFFER_DELETE);
            a.set(ADDRESS, Structs.BUFFER_DELETE.off("buffer"), ptr());
            client.api.call("PJRT_Buffer_Delete", a);
        }
    }

    @Override
    public String toString() {
        return "PjrtBuffer[" + type + Arrays.toString(dims) + (isClosed() ? ", closed" : "") + "]";
    }
}
