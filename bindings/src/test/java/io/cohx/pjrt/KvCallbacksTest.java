package io.cohx.pjrt;

import io.cohx.pjrt.capi.PJRT_CallbackError;
import io.cohx.pjrt.capi.PJRT_Client_Create_Args;
import io.cohx.pjrt.capi.PJRT_KeyValueGetCallback;
import io.cohx.pjrt.capi.PJRT_KeyValueGetCallback_Args;
import io.cohx.pjrt.capi.PJRT_KeyValuePutCallback;
import io.cohx.pjrt.capi.PJRT_KeyValuePutCallback_Args;
import io.cohx.pjrt.capi.PJRT_KeyValueTryGetCallback;
import io.cohx.pjrt.capi.PJRT_KeyValueTryGetCallback_Args;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;

import static io.cohx.pjrt.capi.PjrtCApi.PJRT_Client_Create_Args_STRUCT_SIZE;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The key-value callbacks through the C ABI: the stubs are called through their function pointers
 * exactly as a plugin calls them (args structs in native memory, the deleter freeing the value,
 * errors made through a native {@code callback_error}). The pinned CPU plugin accepts the
 * callbacks but never calls them (it runs one process), which the last test pins down.
 */
class KvCallbacksTest {
    private final Map<String, byte[]> values = new ConcurrentHashMap<>();
    private final KeyValueStore store = new KeyValueStore() {
        @Override
        public byte[] get(String key, Duration timeout) throws TimeoutException {
            byte[] v = values.get(key);
            if (v == null) {
                throw new TimeoutException("absent");
            }
            return v;
        }

        @Override
        public Optional<byte[]> tryGet(String key) {
            if (key.equals("broken")) {
                throw new IllegalStateException("process 1 of 2 disconnected");
            }
            return Optional.ofNullable(values.get(key));
        }

        @Override
        public void put(String key, byte[] value) {
            values.put(key, value);
        }
    };

    /** Errors the "plugin" was asked to make: code and message; returns a non-null fake PJRT_Error*. */
    private final List<String> errors = new CopyOnWriteArrayList<>();

    private MemorySegment errorFunctionPointer(Arena arena) {
        MemorySegment fn = PJRT_CallbackError.allocate((code, msg, len) -> {
            errors.add(ErrorCode.of(code) + ": " + new String(msg.reinterpret(len).toArray(JAVA_BYTE), StandardCharsets.UTF_8));
            return MemorySegment.ofAddress(0x1234);
        }, arena);
        MemorySegment holder = arena.allocate(ADDRESS);
        holder.set(ADDRESS, 0, fn);
        return holder;
    }

    @Test
    void putGetTryGetAndErrorsThroughTheCAbi() throws Throwable {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment create = arena.allocate(PJRT_Client_Create_Args.layout());
            PJRT_Client_Create_Args.struct_size(create, PJRT_Client_Create_Args_STRUCT_SIZE());
            KvCallbacks.install(create, store, arena);
            MemorySegment errFn = errorFunctionPointer(arena);

            byte[] value = {7, 0, 8, (byte) 200};
            MemorySegment put = arena.allocate(PJRT_KeyValuePutCallback_Args.layout());
            PJRT_KeyValuePutCallback_Args.key(put, arena.allocateFrom(JAVA_BYTE, "cuda:node0".getBytes(StandardCharsets.UTF_8)));
            PJRT_KeyValuePutCallback_Args.key_size(put, 10);
            PJRT_KeyValuePutCallback_Args.value(put, arena.allocateFrom(JAVA_BYTE, value));
            PJRT_KeyValuePutCallback_Args.value_size(put, value.length);
            PJRT_KeyValuePutCallback_Args.callback_error(put, errFn);
            assertEquals(MemorySegment.NULL, PJRT_KeyValuePutCallback.invoke(PJRT_Client_Create_Args.kv_put_callback(create), put));
            assertArrayEquals(value, values.get("cuda:node0"));

            MemorySegment get = arena.allocate(PJRT_KeyValueGetCallback_Args.layout());
            PJRT_KeyValueGetCallback_Args.key(get, arena.allocateFrom(JAVA_BYTE, "cuda:node0".getBytes(StandardCharsets.UTF_8)));
            PJRT_KeyValueGetCallback_Args.key_size(get, 10);
            PJRT_KeyValueGetCallback_Args.timeout_in_ms(get, 1000);
            PJRT_KeyValueGetCallback_Args.callback_error(get, errFn);
            assertEquals(MemorySegment.NULL, PJRT_KeyValueGetCallback.invoke(PJRT_Client_Create_Args.kv_get_callback(create), get));
            long n = PJRT_KeyValueGetCallback_Args.value_size(get);
            assertArrayEquals(value, PJRT_KeyValueGetCallback_Args.value(get).reinterpret(n).toArray(JAVA_BYTE));
            // The plugin frees the value with the deleter it was given (libc free): call it as the plugin would.
            Linker.nativeLinker().downcallHandle(PJRT_KeyValueGetCallback_Args.value_deleter_callback(get), FunctionDescriptor.ofVoid(ADDRESS))
                    .invokeExact(PJRT_KeyValueGetCallback_Args.value(get));

            PJRT_KeyValueGetCallback_Args.key(get, arena.allocateFrom(JAVA_BYTE, "nothing".getBytes(StandardCharsets.UTF_8)));
            PJRT_KeyValueGetCallback_Args.key_size(get, 7);
            assertEquals(0x1234, PJRT_KeyValueGetCallback.invoke(PJRT_Client_Create_Args.kv_get_callback(create), get).address());
            assertEquals("DEADLINE_EXCEEDED: key-value store: no value for 'nothing' within 1000 ms", errors.getLast());

            MemorySegment tryGet = arena.allocate(PJRT_KeyValueTryGetCallback_Args.layout());
            PJRT_KeyValueTryGetCallback_Args.key(tryGet, arena.allocateFrom(JAVA_BYTE, "nothing".getBytes(StandardCharsets.UTF_8)));
            PJRT_KeyValueTryGetCallback_Args.key_size(tryGet, 7);
            PJRT_KeyValueTryGetCallback_Args.callback_error(tryGet, errFn);
            MemorySegment tryGetFn = PJRT_Client_Create_Args.kv_try_get_callback(create);
            assertEquals(0x1234, PJRT_KeyValueTryGetCallback.invoke(tryGetFn, tryGet).address());
            assertEquals("NOT_FOUND: key-value store: no value for 'nothing' yet", errors.getLast());
            PJRT_KeyValueTryGetCallback_Args.key(tryGet, arena.allocateFrom(JAVA_BYTE, "cuda:node0".getBytes(StandardCharsets.UTF_8)));
            PJRT_KeyValueTryGetCallback_Args.key_size(tryGet, 10);
            assertEquals(MemorySegment.NULL, PJRT_KeyValueTryGetCallback.invoke(tryGetFn, tryGet));
            assertArrayEquals(value, PJRT_KeyValueTryGetCallback_Args.value(tryGet).reinterpret(value.length).toArray(JAVA_BYTE));

            // A store failure (a dead peer) reaches the plugin as UNAVAILABLE with its message; the JVM does not crash.
            PJRT_KeyValueTryGetCallback_Args.key(tryGet, arena.allocateFrom(JAVA_BYTE, "broken".getBytes(StandardCharsets.UTF_8)));
            PJRT_KeyValueTryGetCallback_Args.key_size(tryGet, 6);
            assertEquals(0x1234, PJRT_KeyValueTryGetCallback.invoke(tryGetFn, tryGet).address());
            assertEquals("UNAVAILABLE: key-value store: process 1 of 2 disconnected", errors.getLast());
        }
    }

    @Test
    void theCpuPluginTakesTheCallbacksButRunsOneProcess() {
        var calls = new CopyOnWriteArrayList<String>();
        KeyValueStore counting = new KeyValueStore() {
            @Override
            public byte[] get(String key, Duration timeout) throws TimeoutException {
                calls.add(key);
                return store.get(key, timeout);
            }

            @Override
            public Optional<byte[]> tryGet(String key) {
                calls.add(key);
                return store.tryGet(key);
            }

            @Override
            public void put(String key, byte[] value) {
                calls.add(key);
                store.put(key, value);
            }
        };
        try (PjrtClient c = PjrtClient.create(TestPlugins.cpuPlugin(), Map.of("cpu_device_count", 2L), counting)) {
            assertEquals(2, c.addressableDevices().size());
            assertEquals(c.devices(), c.addressableDevices(), "one process: every device is addressable");
            assertEquals(0, c.processIndex());
        }
        assertTrue(calls.isEmpty(), "the CPU plugin never uses the store: " + calls);
    }
}
