package io.cohx.pjrt;

import io.cohx.pjrt.capi.PJRT_DeviceDescription_DebugString_Args;
import io.cohx.pjrt.capi.PJRT_DeviceDescription_Id_Args;
import io.cohx.pjrt.capi.PJRT_DeviceDescription_Kind_Args;
import io.cohx.pjrt.capi.PJRT_DeviceDescription_ProcessIndex_Args;
import io.cohx.pjrt.capi.PJRT_Device_AddressableMemories_Args;
import io.cohx.pjrt.capi.PJRT_Device_DefaultMemory_Args;
import io.cohx.pjrt.capi.PJRT_Device_GetDescription_Args;
import io.cohx.pjrt.capi.PJRT_Device_IsAddressable_Args;
import io.cohx.pjrt.capi.PJRT_Device_LocalHardwareId_Args;
import io.cohx.pjrt.capi.PJRT_Device_MemoryStats_Args;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static io.cohx.pjrt.capi.PjrtCApi.*;
import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * One device of a client, with its description read once at creation (global id, process index,
 * kind, debug string). Owned by the client, which must stay open while it is used; no close.
 * Immutable and thread-safe.
 */
public final class PjrtDevice {
    final MemorySegment ptr;
    private final Api api;
    private final int id;
    private final int processIndex;
    private final String kind;
    private final String debugString;
    private final boolean addressable;
    private final int localHardwareId;

    PjrtDevice(Api api, MemorySegment ptr) {
        this.api = api;
        this.ptr = ptr;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = api.args(arena, PJRT_Device_GetDescription_Args.layout(), PJRT_Device_GetDescription_Args_STRUCT_SIZE());
            PJRT_Device_GetDescription_Args.device(d, ptr);
            api.call("PJRT_Device_GetDescription", d);
            MemorySegment desc = PJRT_Device_GetDescription_Args.device_description(d);

            MemorySegment a = api.args(arena, PJRT_DeviceDescription_Id_Args.layout(), PJRT_DeviceDescription_Id_Args_STRUCT_SIZE());
            PJRT_DeviceDescription_Id_Args.device_description(a, desc);
            api.call("PJRT_DeviceDescription_Id", a);
            this.id = PJRT_DeviceDescription_Id_Args.id(a);

            a = api.args(arena, PJRT_DeviceDescription_ProcessIndex_Args.layout(), PJRT_DeviceDescription_ProcessIndex_Args_STRUCT_SIZE());
            PJRT_DeviceDescription_ProcessIndex_Args.device_description(a, desc);
            api.call("PJRT_DeviceDescription_ProcessIndex", a);
            this.processIndex = PJRT_DeviceDescription_ProcessIndex_Args.process_index(a);

            a = api.args(arena, PJRT_DeviceDescription_Kind_Args.layout(), PJRT_DeviceDescription_Kind_Args_STRUCT_SIZE());
            PJRT_DeviceDescription_Kind_Args.device_description(a, desc);
            api.call("PJRT_DeviceDescription_Kind", a);
            this.kind = Api.string(PJRT_DeviceDescription_Kind_Args.device_kind(a), PJRT_DeviceDescription_Kind_Args.device_kind_size(a));

            a = api.args(arena, PJRT_DeviceDescription_DebugString_Args.layout(), PJRT_DeviceDescription_DebugString_Args_STRUCT_SIZE());
            PJRT_DeviceDescription_DebugString_Args.device_description(a, desc);
            api.call("PJRT_DeviceDescription_DebugString", a);
            this.debugString = Api.string(PJRT_DeviceDescription_DebugString_Args.debug_string(a),
                    PJRT_DeviceDescription_DebugString_Args.debug_string_size(a));

            a = api.args(arena, PJRT_Device_IsAddressable_Args.layout(), PJRT_Device_IsAddressable_Args_STRUCT_SIZE());
            PJRT_Device_IsAddressable_Args.device(a, ptr);
            api.call("PJRT_Device_IsAddressable", a);
            this.addressable = PJRT_Device_IsAddressable_Args.is_addressable(a);

            int hw = -1;
            if (addressable) {
                a = api.args(arena, PJRT_Device_LocalHardwareId_Args.layout(), PJRT_Device_LocalHardwareId_Args_STRUCT_SIZE());
                PJRT_Device_LocalHardwareId_Args.device(a, ptr);
                api.call("PJRT_Device_LocalHardwareId", a);
                hw = PJRT_Device_LocalHardwareId_Args.local_hardware_id(a);
            }
            this.localHardwareId = hw;
        }
    }

    /** Global device id, as used in device assignments. */
    public int id() {
        return id;
    }

    public int processIndex() {
        return processIndex;
    }

    /** Vendor's device kind, e.g. "cpu" or "NVIDIA H100 80GB HBM3". */
    public String kind() {
        return kind;
    }

    public String debugString() {
        return debugString;
    }

    public boolean isAddressable() {
        return addressable;
    }

    /** Local hardware id, or -1 for a device of another process. */
    public int localHardwareId() {
        return localHardwareId;
    }

    /** Memory spaces this device can address. */
    public List<PjrtMemory> memories() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = api.args(arena, PJRT_Device_AddressableMemories_Args.layout(), PJRT_Device_AddressableMemories_Args_STRUCT_SIZE());
            PJRT_Device_AddressableMemories_Args.device(a, ptr);
            api.call("PJRT_Device_AddressableMemories", a);
            long n = PJRT_Device_AddressableMemories_Args.num_memories(a);
            MemorySegment arr = PJRT_Device_AddressableMemories_Args.memories(a).reinterpret(ADDRESS.byteSize() * n);
            var out = new ArrayList<PjrtMemory>();
            for (long i = 0; i < n; i++) {
                out.add(new PjrtMemory(api, arr.getAtIndex(ADDRESS, i)));
            }
            return List.copyOf(out);
        }
    }

    /** The device's default memory space. */
    public PjrtMemory defaultMemory() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = api.args(arena, PJRT_Device_DefaultMemory_Args.layout(), PJRT_Device_DefaultMemory_Args_STRUCT_SIZE());
            PJRT_Device_DefaultMemory_Args.device(a, ptr);
            api.call("PJRT_Device_DefaultMemory", a);
            return new PjrtMemory(api, PJRT_Device_DefaultMemory_Args.memory(a));
        }
    }

    /**
     * What the plugin reports of this device's memory ({@code PJRT_Device_MemoryStats}).
     *
     * @param bytesInUse     bytes allocated now
     * @param bytesLimit     the most a program may allocate on the device, where the plugin says
     * @param peakBytesInUse the most allocated at once so far, where the plugin says
     */
    public record MemoryStats(long bytesInUse, OptionalLong bytesLimit, OptionalLong peakBytesInUse) {}

    /**
     * This device's memory statistics, or empty when the plugin does not provide them: the C API
     * lets a plugin answer UNIMPLEMENTED (or leave the function out), and the optional fields
     * (limit, peak) come only where it sets them. Other errors are thrown.
     */
    public Optional<MemoryStats> memoryStats() {
        if (!api.has("PJRT_Device_MemoryStats")) {
            return Optional.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = api.args(arena, PJRT_Device_MemoryStats_Args.layout(), PJRT_Device_MemoryStats_Args_STRUCT_SIZE());
            PJRT_Device_MemoryStats_Args.device(a, ptr);
            api.call("PJRT_Device_MemoryStats", a);
            return Optional.of(new MemoryStats(PJRT_Device_MemoryStats_Args.bytes_in_use(a),
                    PJRT_Device_MemoryStats_Args.bytes_limit_is_set(a) ? OptionalLong.of(PJRT_Device_MemoryStats_Args.bytes_limit(a))
                            : OptionalLong.empty(),
                    PJRT_Device_MemoryStats_Args.peak_bytes_in_use_is_set(a) ? OptionalLong.of(PJRT_Device_MemoryStats_Args.peak_bytes_in_use(a))
                            : OptionalLong.empty()));
        } catch (PjrtException e) {
            if (e.code() == ErrorCode.UNIMPLEMENTED) {
                return Optional.empty();
            }
            throw e;
        }
    }

    @Override
    public String toString() {
        return "PjrtDevice[id=" + id + ", kind=" + kind + "]";
    }
}
