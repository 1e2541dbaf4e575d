package io.cohx.models.checkpoint;

import java.lang.foreign.Arena;

/**
 * Supplies one tensor on demand while a writer streams a checkpoint out: the writer asks for
 * tensors one at a time with a fresh arena that it closes once the bytes are on disk.
 */
@FunctionalInterface
public interface TensorSource {
    /** The tensor described by {@code info} (same dtype and shape), allocated in {@code arena} if it must be built. */
    HostTensor get(TensorInfo info, Arena arena);

    /** Source that reads each tensor by name from {@code reader}. */
    static TensorSource of(TensorReader reader) {
        return (info, arena) -> reader.read(info.name(), arena);
    }
}
