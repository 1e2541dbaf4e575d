package io.cohx.pjrt;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Base of every Java object that owns a PJRT object. {@link #close()} destroys it once (a second
 * close does nothing); a use after close throws {@link IllegalStateException}. A {@link Cleaner}
 * destroys objects that were never closed, and a client destroys its still-open children before
 * itself, so the C API's "children before client" order always holds.
 */
abstract class NativeResource implements AutoCloseable {
    static final Cleaner CLEANER = Cleaner.create();

    /** What the cleaner holds: the pointer and how to destroy it; never the Java object itself. */
    static final class Handle implements Runnable {
        final MemorySegment ptr;
        private final Consumer<MemorySegment> destroy;
        private final Set<Handle> siblings;
        private final AtomicBoolean closed = new AtomicBoolean();
        final Set<Handle> children = ConcurrentHashMap.newKeySet();

        Handle(MemorySegment ptr, Consumer<MemorySegment> destroy, Set<Handle> siblings) {
            this.ptr = ptr;
            this.destroy = destroy;
            this.siblings = siblings;
            if (siblings != null) {
                siblings.add(this);
            }
        }

        boolean isClosed() {
            return closed.get();
        }

        @Override
        public void run() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            if (siblings != null) {
                siblings.remove(this);
            }
            for (Handle child : children.toArray(Handle[]::new)) {
                child.run();
            }
            destroy.accept(ptr);
        }
    }

    private final Handle handle;
    private final Cleaner.Cleanable cleanable;
    private final String kind;

    NativeResource(String kind, MemorySegment ptr, Consumer<MemorySegment> destroy, NativeResource parent) {
        this.kind = kind;
        this.handle = new Handle(ptr, destroy, parent == null ? null : parent.handle.children);
        this.cleanable = CLEANER.register(this, handle);
    }

    /** The native pointer; throws if this object was closed. */
    final MemorySegment ptr() {
        if (handle.isClosed()) {
            throw new IllegalStateException(kind + " used after close");
        }
        return handle.ptr;
    }

    /** True once closed (by {@link #close()}, its parent's close, or donation). */
    public boolean isClosed() {
        return handle.isClosed();
    }

    @Override
    public void close() {
        cleanable.clean();
    }
}
