package io.cohx.pjrt;

import io.cohx.pjrt.capi.PJRT_Event_Await_Args;
import io.cohx.pjrt.capi.PJRT_Event_Destroy_Args;
import io.cohx.pjrt.capi.PJRT_Event_IsReady_Args;
import io.cohx.pjrt.capi.PJRT_Event_OnReadyCallback;
import io.cohx.pjrt.capi.PJRT_Event_OnReady_Args;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static io.cohx.pjrt.capi.PjrtCApi.PJRT_Event_Await_Args_STRUCT_SIZE;
import static io.cohx.pjrt.capi.PjrtCApi.PJRT_Event_Destroy_Args_STRUCT_SIZE;
import static io.cohx.pjrt.capi.PjrtCApi.PJRT_Event_IsReady_Args_STRUCT_SIZE;
import static io.cohx.pjrt.capi.PjrtCApi.PJRT_Event_OnReady_Args_STRUCT_SIZE;

/**
 * A PJRT event (a transfer or an execution finishing). {@link #await()} blocks the calling thread
 * (use platform threads: a blocking downcall pins a virtual thread's carrier); {@link #onReady()}
 * completes a future from the plugin's thread. The caller owns the event and closes it.
 * Not thread-safe: one owner at a time.
 */
public final class PjrtEvent extends NativeResource {
    private final Api api;

    PjrtEvent(Api api, MemorySegment ptr) {
        super("PjrtEvent", ptr, p -> destroy(api, p), null);
        this.api = api;
    }

    private static void destroy(Api api, MemorySegment p) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = api.args(arena, PJRT_Event_Destroy_Args.layout(), PJRT_Event_Destroy_Args_STRUCT_SIZE());
            PJRT_Event_Destroy_Args.event(a, p);
            api.call("PJRT_Event_Destroy", a);
        }
    }

    /** Blocks until the event is ready; throws the event's error, if any. */
    public void await() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = api.args(arena, PJRT_Event_Await_Args.layout(), PJRT_Event_Await_Args_STRUCT_SIZE());
            PJRT_Event_Await_Args.event(a, ptr());
            api.call("PJRT_Event_Await", a);
        }
    }

    /** True once the event has completed (successfully or not). */
    public boolean isReady() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = api.args(arena, PJRT_Event_IsReady_Args.layout(), PJRT_Event_IsReady_Args_STRUCT_SIZE());
            PJRT_Event_IsReady_Args.event(a, ptr());
            api.call("PJRT_Event_IsReady", a);
            return PJRT_Event_IsReady_Args.is_ready(a);
        }
    }

    /** Awaits and closes: the common case for events the binding receives. */
    void awaitAndClose() {
        try {
            await();
        } finally {
            close();
        }
    }

    // ---- on-ready callbacks: one upcall stub for the process, user_arg = a key into PENDING ----
    private record Pending(Api api, CompletableFuture<Void> future) {}

    private static final Map<Long, Pending> PENDING = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT_KEY = new AtomicLong(1);
    private static final MemorySegment CALLBACK = PJRT_Event_OnReadyCallback.allocate(PjrtEvent::onReadyUpcall, Arena.global());

    /** Runs on a plugin thread: must never throw (an exception here would end the JVM). */
    private static void onReadyUpcall(MemorySegment error, MemorySegment userArg) {
        try {
            Pending p = PENDING.remove(userArg.address());
            if (p == null) {
                return;
            }
            if (error.equals(MemorySegment.NULL)) {
                p.future().complete(null);
            } else {
                p.future().completeExceptionally(p.api().consumeError(error, "PJRT event"));
            }
        } catch (Throwable ignored) {
            // Nothing sensible can be done on a native thread; the future stays incomplete.
        }
    }

    /** A future completed when the event is ready (exceptionally with the event's error). */
    public CompletableFuture<Void> onReady() {
        long key = NEXT_KEY.getAndIncrement();
        var future = new CompletableFuture<Void>();
        PENDING.put(key, new Pending(api, future));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = api.args(arena, PJRT_Event_OnReady_Args.layout(), PJRT_Event_OnReady_Args_STRUCT_SIZE());
            PJRT_Event_OnReady_Args.event(a, ptr());
            PJRT_Event_OnReady_Args.callback(a, CALLBACK);
            PJRT_Event_OnReady_Args.user_arg(a, MemorySegment.ofAddress(key));
            api.call("PJRT_Event_OnReady", a);
        } catch (RuntimeException e) {
            PENDING.remove(key);
            throw e;
        }
        return future;
    }
}
