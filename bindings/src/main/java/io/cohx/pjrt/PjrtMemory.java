package io.cohx.pjrt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

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
            MemorySegment a = Api.args(arena, Structs.MEMORY_KIND);
            a.set(ADDRESS, Structs.MEMORY_KIND.off("memory"), ptr);
            api.call("PJRT_Memory_Kind", a);
            this.kind = Api.string(a.get(ADDRESS, Structs.MEMORY_KIND.off("kind")), a.get(JAVA_LONG, Structs.MEMORY_KIND.off("kind_size")));
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
