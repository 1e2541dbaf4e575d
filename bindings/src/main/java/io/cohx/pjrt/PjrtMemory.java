package io.cohx.pjrt;

import io.cohx.pjrt.capi.PJRT_Memory_Kind_Args;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.cohx.pjrt.capi.PjrtCApi.PJRT_Memory_Kind_Args_STRUCT_SIZE;

/**
 * A memory space of a device ({@code device}, {@code pinned_host}, {@code unpinned_host}).
 * Owned by the client; no close. Immutable and thread-safe.
 */
public final class PjrtMemory {
    final MemorySegment ptr;
    private final String kind;

    PjrtMemory(Api api, MemorySegment ptr) {
        this.ptr = ptr;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = api.args(arena, PJRT_Memory_Kind_Args.layout(), PJRT_Memory_Kind_Args_STRUCT_SIZE());
            PJRT_Memory_Kind_Args.memory(a, ptr);
            api.call("PJRT_Memory_Kind", a);
            this.kind = Api.string(PJRT_Memory_Kind_Args.kind(a), PJRT_Memory_Kind_Args.kind_size(a));
        }
    }

    public String kind() {
        return kind;
    }

    @Override
    public String toString() {
        return "PjrtMemory[" + kind + "]";
    }
}
