package io.cohx.pjrt;

import io.cohx.pjrt.capi.PJRT_CallbackError;
import io.cohx.pjrt.capi.PJRT_Client_Create_Args;
import io.cohx.pjrt.capi.PJRT_KeyValueGetCallback;
import io.cohx.pjrt.capi.PJRT_KeyValueGetCallback_Args;
import io.cohx.pjrt.capi.PJRT_KeyValuePutCallback;
import io.cohx.pjrt.capi.PJRT_KeyValuePutCallback_Args;
import io.cohx.pjrt.capi.PJRT_KeyValueTryGetCallback;
import io.cohx.pjrt.capi.PJRT_KeyValueTryGetCallback_Args;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A {@link KeyValueStore} as the three C callbacks of {@code PJRT_Client_Create_Args} (get, put,
 * try-get), as upcall stubs that live in {@code arena}, which must outlive the client: GPU
 * plugins call the store again after creation (NCCL ids at a program's first run).
 *
 * <p>Values handed to the plugin are {@code malloc}ed copies with libc's {@code free} as their
 * deleter, so the plugin frees them on its own thread without calling back into Java. Errors go
 * back through the plugin's {@code callback_error} function (the field is a pointer to that
 * function pointer). An upcall must never throw (the JVM would crash), so each catches all.
 */
final class KvCallbacks {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemorySegment FREE = LINKER.defaultLookup().find("free").orElseThrow();
    private static final MethodHandle MALLOC = LINKER.downcallHandle(LINKER.defaultLookup().find("malloc").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, JAVA_LONG));

    private KvCallbacks() {}

    /** Fills the callback fields of a {@code PJRT_Client_Create_Args}. */
    static void install(MemorySegment createArgs, KeyValueStore store, Arena arena) {
        PJRT_Client_Create_Args.kv_get_callback(createArgs, PJRT_KeyValueGetCallback.allocate(a -> get(store, a), arena));
        PJRT_Client_Create_Args.kv_put_callback(createArgs, PJRT_KeyValuePutCallback.allocate(a -> put(store, a), arena));
        PJRT_Client_Create_Args.kv_try_get_callback(createArgs, PJRT_KeyValueTryGetCallback.allocate(a -> tryGet(store, a), arena));
    }

    private static MemorySegment get(KeyValueStore store, MemorySegment args) {
        MemorySegment a = args.reinterpret(PJRT_KeyValueGetCallback_Args.sizeof());
        MemorySegment errorFn = PJRT_KeyValueGetCallback_Args.callback_error(a);
        try {
            String key = string(PJRT_KeyValueGetCallback_Args.key(a), PJRT_KeyValueGetCallback_Args.key_size(a));
            int timeoutMs = PJRT_KeyValueGetCallback_Args.timeout_in_ms(a);
            byte[] value;
            try {
                value = store.get(key, Duration.ofMillis(Math.max(0, timeoutMs)));
            } catch (TimeoutException e) {
                return error(errorFn, ErrorCode.DEADLINE_EXCEEDED, "key-value store: no value for '" + key + "' within " + timeoutMs + " ms");
            }
            MemorySegment copy = mallocCopy(value);
            PJRT_KeyValueGetCallback_Args.value(a, copy);
            PJRT_KeyValueGetCallback_Args.value_size(a, value.length);
            PJRT_KeyValueGetCallback_Args.value_deleter_callback(a, FREE);
            return MemorySegment.NULL;
        } catch (Throwable t) {
            return error(errorFn, ErrorCode.UNAVAILABLE, message(t));
        }
    }

    private static MemorySegment tryGet(KeyValueStore store, MemorySegment args) {
        MemorySegment a = args.reinterpret(PJRT_KeyValueTryGetCallback_Args.sizeof());
        MemorySegment errorFn = PJRT_KeyValueTryGetCallback_Args.callback_error(a);
        try {
            String key = string(PJRT_KeyValueTryGetCallback_Args.key(a), PJRT_KeyValueTryGetCallback_Args.key_size(a));
            Optional<byte[]> value = store.tryGet(key);
            if (value.isEmpty()) {
                return error(errorFn, ErrorCode.NOT_FOUND, "key-value store: no value for '" + key + "' yet");
            }
            PJRT_KeyValueTryGetCallback_Args.value(a, mallocCopy(value.get()));
            PJRT_KeyValueTryGetCallback_Args.value_size(a, value.get().length);
            PJRT_KeyValueTryGetCallback_Args.value_deleter_callback(a, FREE);
            return MemorySegment.NULL;
        } catch (Throwable t) {
            return error(errorFn, ErrorCode.UNAVAILABLE, message(t));
        }
    }

    private static MemorySegment put(KeyValueStore store, MemorySegment args) {
        MemorySegment a = args.reinterpret(PJRT_KeyValuePutCallback_Args.sizeof());
        MemorySegment errorFn = PJRT_KeyValuePutCallback_Args.callback_error(a);
        try {
            String key = string(PJRT_KeyValuePutCallback_Args.key(a), PJRT_KeyValuePutCallback_Args.key_size(a));
            long n = PJRT_KeyValuePutCallback_Args.value_size(a);
            byte[] value = n == 0 ? new byte[0] : PJRT_KeyValuePutCallback_Args.value(a).reinterpret(n).toArray(JAVA_BYTE);
            store.put(key, value);
            return MemorySegment.NULL;
        } catch (Throwable t) {
            return error(errorFn, ErrorCode.UNAVAILABLE, message(t));
        }
    }

    private static String string(MemorySegment p, long n) {
        return n == 0 ? "" : new String(p.reinterpret(n).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
    }

    private static MemorySegment mallocCopy(byte[] value) throws Throwable {
        MemorySegment p = ((MemorySegment) MALLOC.invokeExact((long) Math.max(1, value.length))).reinterpret(Math.max(1, value.length));
        if (p.equals(MemorySegment.NULL)) {
            throw new OutOfMemoryError("malloc(" + value.length + ") failed");
        }
        MemorySegment.copy(value, 0, p, JAVA_BYTE, 0, value.length);
        return p;
    }

    /** Makes the plugin's error through its {@code callback_error} (a pointer to the function pointer). */
    private static MemorySegment error(MemorySegment errorFnPtr, ErrorCode code, String message) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fn = errorFnPtr.reinterpret(ADDRESS.byteSize()).get(ADDRESS, 0);
            byte[] m = message.getBytes(StandardCharsets.UTF_8);
            return PJRT_CallbackError.invoke(fn, code.ordinal(), arena.allocateFrom(JAVA_BYTE, m), m.length);
        } catch (Throwable t) {
            return MemorySegment.NULL; // nothing better to do from inside an upcall
        }
    }

    private static String message(Throwable t) {
        return "key-value store: " + (t.getMessage() != null ? t.getMessage() : t.toString());
    }
}
