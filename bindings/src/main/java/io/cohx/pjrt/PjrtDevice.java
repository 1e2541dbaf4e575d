package io.cohx.pjrt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

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
            MemorySegment d = Api.args(arena, Structs.DEVICE_GET_DESCRIPTION);
            d.set(ADDRESS, Structs.DEVICE_GET_DESCRIPTION.off("device"), ptr);
            api.call("PJRT_Device_GetDescription", d);
            MemorySegment desc = d.get(ADDRESS, Structs.DEVICE_GET_DESCRIPTION.off("device_description"));

            MemorySegment a = Api.args(arena, Structs.DEVICE_DESCRIPTION_ID);
            a.set(ADDRESS, Structs.DEVICE_DESCRIPTION_ID.off("device_description"), desc);
            api.call("PJRT_DeviceDescription_Id", a);
            this.id = a.get(JAVA_INT, Structs.DEVICE_DESCRIPTION_ID.off("id"));

            a = Api.args(arena, Structs.DEVICE_DESCRIPTION_PROCESS_INDEX);
            a.set(ADDRESS, Structs.DEVICE_DESCRIPTION_PROCESS_INDEX.off("device_description"), desc);
            api.call("PJRT_DeviceDescription_ProcessIndex", a);
            this.processIndex = a.get(JAVA_INT, Structs.DEVICE_DESCRIPTION_PROCESS_INDEX.off("process_index"));

            Struct k = Structs.DEVICE_DESCRIPTION_KIND;
            a = Api.args(arena, k);
            a.set(ADDRESS, k.off("device_description"), desc);
            api.call("PJRT_DeviceDescription_Kind", a);
            this.kind = Api.string(a.get(ADDRESS, k.off("device_kind")), a.get(JAVA_LONG, k.off("device_kind_size")));

            Struct s = Structs.DEVICE_DESCRIPTION_DEBUG_STRING;
            a = Api.args(arena, s);
            a.set(ADDRESS, s.off("device_description"), desc);
            api.call("PJRT_DeviceDescription_DebugString", a);
            this.debugString = Api.string(a.get(ADDRESS, s.off("debug_string")), a.get(JAVA_LONG, s.off("debug_string_size")));

            a = Api.args(arena, Structs.DEVICE_IS_ADDRESSABLE);
            a.set(ADDRESS, Structs.DEVICE_IS_ADDRESSABLE.off("device"), ptr);
            api.call("PJRT_Device_IsAddressable", a);
            this.addressable = a.get(JAVA_BOOLEAN, Structs.DEVICE_IS_ADDRESSABLE.off("is_addressable"));

            int hw = -1;
            if (addressable) {
                a = Api.args(arena, Structs.DEVICE_LOCAL_HARDWARE_ID);
                a.set(ADDRESS, Structs.DEVICE_LOCAL_HARDWARE_ID.off("device"), ptr);
                api.call("PJRT_Device_LocalHardwareId", a);
                hw = a.get(JAVA_INT, Structs.DEVICE_LOCAL_HARDWARE_ID.off("local_hardware_id"));
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
            Struct s = Structs.DEVICE_ADDRESSABLE_MEMORIES;
            MemorySegment a = Api.args(arena, s);
            a.set(ADDRESS, s.off("device"), ptr);
            api.call("PJRT_Device_AddressableMemories", a);
            long n = a.get(JAVA_LONG, s.off("num_memories"));
            MemorySegment arr = a.get(ADDRESS, s.off("memories")).reinterpret(8 * n);
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
            MemorySegment a = Api.args(arena, Structs.DEVICE_DEFAULT_MEMORY);
            a.set(ADDRESS, Structs.DEVICE_DEFAULT_MEMORY.off("device"), ptr);
            api.call("PJRT_Device_DefaultMemory", a);
            return new PjrtMemory(api, a.get(ADDRESS, Structs.DEVICE_DEFAULT_MEMORY.off("memory")));
        }
    }

    @Override
    public String toString() {
        return "PjrtDevice[id=" + id + ", kind=" + kind + "]";
    }
}
