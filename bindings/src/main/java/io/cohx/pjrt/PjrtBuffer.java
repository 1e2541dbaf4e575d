package io.cohx.pjrt;

import io.cohx.pjrt.capi.PJRT_Buffer_Delete_Args;
import io.cohx.pjrt.capi.PJRT_Buffer_Destroy_Args;
import io.cohx.pjrt.capi.PJRT_Buffer_Device_Args;
import io.cohx.pjrt.capi.PJRT_Buffer_Dimensions_Args;
import io.cohx.pjrt.capi.PJRT_Buffer_ElementType_Args;
import io.cohx.pjrt.capi.PJRT_Buffer_IsDeleted_Args;
import io.cohx.pjrt.capi.PJRT_Buffer_MemoryLayout;
import io.cohx.pjrt.capi.PJRT_Buffer_MemoryLayout_Tiled;
import io.cohx.pjrt.capi.PJRT_Buffer_OnDeviceSizeInBytes_Args;
import io.cohx.pjrt.capi.PJRT_Buffer_ReadyEvent_Args;
import io.cohx.pjrt.capi.PJRT_Buffer_ToHostBuffer_Args;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static io.cohx.pjrt.capi.PjrtCApi.*;
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
        Api api = client.api;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = api.args(arena, PJRT_Buffer_ElementType_Args.layout(), PJRT_Buffer_ElementType_Args_STRUCT_SIZE());
            PJRT_Buffer_ElementType_Args.buffer(a, ptr);
            api.call("PJRT_Buffer_ElementType", a);
            this.type = ElementType.ofCode(PJRT_Buffer_ElementType_Args.type(a));
            MemorySegment d = api.args(arena, PJRT_Buffer_Dimensions_Args.layout(), PJRT_Buffer_Dimensions_Args_STRUCT_SIZE());
            PJRT_Buffer_Dimensions_Args.buffer(d, ptr);
            api.call("PJRT_Buffer_Dimensions", d);
            long n = PJRT_Buffer_Dimensions_Args.num_dims(d);
            this.dims = n == 0 ? new long[0] : PJRT_Buffer_Dimensions_Args.dims(d).reinterpret(JAVA_LONG.byteSize() * n).toArray(JAVA_LONG);
        }
    }

    private static void destroy(Api api, MemorySegment p) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = api.args(arena, PJRT_Buffer_Destroy_Args.layout(), PJRT_Buffer_Destroy_Args_STRUCT_SIZE());
            PJRT_Buffer_Destroy_Args.buffer(a, p);
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
            MemorySegment a = client.api.args(arena, PJRT_Buffer_OnDeviceSizeInBytes_Args.layout(), PJRT_Buffer_OnDeviceSizeInBytes_Args_STRUCT_SIZE());
            PJRT_Buffer_OnDeviceSizeInBytes_Args.buffer(a, ptr());
            client.api.call("PJRT_Buffer_OnDeviceSizeInBytes", a);
            return PJRT_Buffer_OnDeviceSizeInBytes_Args.on_device_size_in_bytes(a);
        }
    }

    public PjrtDevice device() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = client.api.args(arena, PJRT_Buffer_Device_Args.layout(), PJRT_Buffer_Device_Args_STRUCT_SIZE());
            PJRT_Buffer_Device_Args.buffer(a, ptr());
            client.api.call("PJRT_Buffer_Device", a);
            return client.deviceAt(PJRT_Buffer_Device_Args.device(a));
        }
    }

    /** True if the device memory was released (donated or deleted). */
    public boolean isDeleted() {
        if (isClosed()) {
            return true;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = client.api.args(arena, PJRT_Buffer_IsDeleted_Args.layout(), PJRT_Buffer_IsDeleted_Args_STRUCT_SIZE());
            PJRT_Buffer_IsDeleted_Args.buffer(a, ptr());
            client.api.call("PJRT_Buffer_IsDeleted", a);
            return PJRT_Buffer_IsDeleted_Args.is_deleted(a);
        }
    }

    /** A future completed when the buffer's contents are ready on the device. */
    public PjrtEvent readyEvent() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = client.api.args(arena, PJRT_Buffer_ReadyEvent_Args.layout(), PJRT_Buffer_ReadyEvent_Args_STRUCT_SIZE());
            PJRT_Buffer_ReadyEvent_Args.buffer(a, ptr());
            client.api.call("PJRT_Buffer_ReadyEvent", a);
            return new PjrtEvent(client.api, PJRT_Buffer_ReadyEvent_Args.event(a));
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
            Api api = client.api;
            // An explicit dense row-major layout: without one the plugin may copy in its device layout.
            MemorySegment layout = api.args(arena, PJRT_Buffer_MemoryLayout.layout(), PJRT_Buffer_MemoryLayout_STRUCT_SIZE());
            MemorySegment tiled = PJRT_Buffer_MemoryLayout.tiled(layout); // embedded: the header's size, no reserve
            PJRT_Buffer_MemoryLayout_Tiled.struct_size(tiled, PJRT_Buffer_MemoryLayout_Tiled_STRUCT_SIZE());
            long[] minorToMajor = new long[dims.length];
            for (int i = 0; i < dims.length; i++) {
                minorToMajor[i] = dims.length - 1 - i;
            }
            PJRT_Buffer_MemoryLayout_Tiled.minor_to_major(tiled, dims.length == 0 ? MemorySegment.NULL : arena.allocateFrom(JAVA_LONG, minorToMajor));
            PJRT_Buffer_MemoryLayout_Tiled.minor_to_major_size(tiled, dims.length);
            PJRT_Buffer_MemoryLayout.type(layout, PJRT_Buffer_MemoryLayout_Type_Tiled());

            MemorySegment a = api.args(arena, PJRT_Buffer_ToHostBuffer_Args.layout(), PJRT_Buffer_ToHostBuffer_Args_STRUCT_SIZE());
            PJRT_Buffer_ToHostBuffer_Args.src(a, ptr());
            PJRT_Buffer_ToHostBuffer_Args.host_layout(a, layout);
            PJRT_Buffer_ToHostBuffer_Args.dst(a, dst);
            PJRT_Buffer_ToHostBuffer_Args.dst_size(a, need);
            api.call("PJRT_Buffer_ToHostBuffer", a);
            new PjrtEvent(api, PJRT_Buffer_ToHostBuffer_Args.event(a)).awaitAndClose();
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
            MemorySegment a = client.api.args(arena, PJRT_Buffer_Delete_Args.layout(), PJRT_Buffer_Delete_Args_STRUCT_SIZE());
            PJRT_Buffer_Delete_Args.buffer(a, ptr());
            client.api.call("PJRT_Buffer_Delete", a);
        }
    }

    @Override
    public String toString() {
        return "PjrtBuffer[" + type + Arrays.toString(dims) + (isClosed() ? ", closed" : "") + "]";
    }
}
