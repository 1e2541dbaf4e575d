package io.cohx.pjrt;

import io.cohx.pjrt.capi.PJRT_Client_AddressableDevices_Args;
import io.cohx.pjrt.capi.PJRT_Client_BufferFromHostBuffer_Args;
import io.cohx.pjrt.capi.PJRT_Client_Compile_Args;
import io.cohx.pjrt.capi.PJRT_Client_Create_Args;
import io.cohx.pjrt.capi.PJRT_Client_Destroy_Args;
import io.cohx.pjrt.capi.PJRT_Client_Devices_Args;
import io.cohx.pjrt.capi.PJRT_Client_PlatformName_Args;
import io.cohx.pjrt.capi.PJRT_Client_PlatformVersion_Args;
import io.cohx.pjrt.capi.PJRT_Client_ProcessIndex_Args;
import io.cohx.pjrt.capi.PJRT_Executable_DeserializeAndLoad_Args;
import io.cohx.pjrt.capi.PJRT_Program;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.cohx.pjrt.capi.PjrtCApi.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A PJRT client: the devices of one plugin, and the factory of buffers and executables. Closing
 * it first closes every buffer and executable it made. PJRT clients are thread-safe, and so is
 * this class; creating and destroying clients is serialized process-wide, as the C API advises.
 */
public final class PjrtClient extends NativeResource {
    private static final Object LIFECYCLE = new Object();

    final Api api;
    private final PjrtPlugin plugin;
    private final String platformName;
    private final String platformVersion;
    private final int processIndex;
    private final List<PjrtDevice> devices;
    private final List<PjrtDevice> addressableDevices;
    private final Map<Long, PjrtDevice> byAddress = new HashMap<>();

    private PjrtClient(PjrtPlugin plugin, MemorySegment ptr, Arena callbacks) {
        super("PjrtClient", ptr, p -> {
            destroy(plugin.api, p);
            if (callbacks != null) {
                callbacks.close(); // the store's upcall stubs, which the plugin may call until it is destroyed
            }
        }, null);
        this.plugin = plugin;
        this.api = plugin.api;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = api.args(arena, PJRT_Client_PlatformName_Args.layout(), PJRT_Client_PlatformName_Args_STRUCT_SIZE());
            PJRT_Client_PlatformName_Args.client(a, ptr);
            api.call("PJRT_Client_PlatformName", a);
            this.platformName = Api.string(PJRT_Client_PlatformName_Args.platform_name(a), PJRT_Client_PlatformName_Args.platform_name_size(a));

            a = api.args(arena, PJRT_Client_PlatformVersion_Args.layout(), PJRT_Client_PlatformVersion_Args_STRUCT_SIZE());
            PJRT_Client_PlatformVersion_Args.client(a, ptr);
            api.call("PJRT_Client_PlatformVersion", a);
            this.platformVersion = Api.string(PJRT_Client_PlatformVersion_Args.platform_version(a),
                    PJRT_Client_PlatformVersion_Args.platform_version_size(a));

            a = api.args(arena, PJRT_Client_ProcessIndex_Args.layout(), PJRT_Client_ProcessIndex_Args_STRUCT_SIZE());
            PJRT_Client_ProcessIndex_Args.client(a, ptr);
            api.call("PJRT_Client_ProcessIndex", a);
            this.processIndex = PJRT_Client_ProcessIndex_Args.process_index(a);

            a = api.args(arena, PJRT_Client_Devices_Args.layout(), PJRT_Client_Devices_Args_STRUCT_SIZE());
            PJRT_Client_Devices_Args.client(a, ptr);
            api.call("PJRT_Client_Devices", a);
            this.devices = knownDevices(PJRT_Client_Devices_Args.devices(a), PJRT_Client_Devices_Args.num_devices(a));

            a = api.args(arena, PJRT_Client_AddressableDevices_Args.layout(), PJRT_Client_AddressableDevices_Args_STRUCT_SIZE());
            PJRT_Client_AddressableDevices_Args.client(a, ptr);
            api.call("PJRT_Client_AddressableDevices", a);
            this.addressableDevices = knownDevices(PJRT_Client_AddressableDevices_Args.addressable_devices(a),
                    PJRT_Client_AddressableDevices_Args.num_addressable_devices(a));
        }
    }

    /** The devices of a {@code PJRT_Device*} array, one Java object per device across calls. */
    private List<PjrtDevice> knownDevices(MemorySegment array, long n) {
        MemorySegment arr = array.reinterpret(ADDRESS.byteSize() * n);
        var out = new ArrayList<PjrtDevice>();
        for (long i = 0; i < n; i++) {
            MemorySegment d = arr.getAtIndex(ADDRESS, i);
            out.add(byAddress.computeIfAbsent(d.address(), k -> new PjrtDevice(api, d)));
        }
        return List.copyOf(out);
    }

    /** A client with default options. */
    public static PjrtClient create(PjrtPlugin plugin) {
        return create(plugin, Map.of());
    }

    /**
     * A client with named create options, e.g. {@code Map.of("cpu_device_count", 8L)} for the CPU
     * plugin. Values: String, Long/Integer, Boolean, Float/Double, long[].
     */
    public static PjrtClient create(PjrtPlugin plugin, Map<String, ?> options) {
        return create(plugin, options, null);
    }

    /**
     * A client of a multi-process run: the plugin meets its peers through {@code store} (see
     * {@link KeyValueStore}); with a null store, as {@link #create(PjrtPlugin, Map)}. The options
     * say which process this is in the plugin's own terms: the GPU plugins take
     * {@code node_id}/{@code num_nodes} (Long), and reject names they do not know.
     */
    public static PjrtClient create(PjrtPlugin plugin, Map<String, ?> options, KeyValueStore store) {
        synchronized (LIFECYCLE) {
            Arena callbacks = store != null ? Arena.ofShared() : null;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment a = plugin.api.args(arena, PJRT_Client_Create_Args.layout(), PJRT_Client_Create_Args_STRUCT_SIZE());
                PJRT_Client_Create_Args.create_options(a, NamedValues.write(arena, options));
                PJRT_Client_Create_Args.num_options(a, options.size());
                PjrtPlugin.sizeThreadPool(options.get("cpu_device_count") instanceof Number n ? n.longValue() : 1);
                if (store != null) {
                    KvCallbacks.install(a, store, callbacks);
                }
                plugin.api.call("PJRT_Client_Create", a);
                return new PjrtClient(plugin, PJRT_Client_Create_Args.client(a), callbacks);
            } catch (RuntimeException e) {
                if (callbacks != null) {
                    callbacks.close();
                }
                throw e;
            }
        }
    }

    private static void destroy(Api api, MemorySegment p) {
        synchronized (LIFECYCLE) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment a = api.args(arena, PJRT_Client_Destroy_Args.layout(), PJRT_Client_Destroy_Args_STRUCT_SIZE());
                PJRT_Client_Destroy_Args.client(a, p);
                api.call("PJRT_Client_Destroy", a);
            }
        }
    }

    public PjrtPlugin plugin() {
        return plugin;
    }

    /** "cpu", "cuda", "tpu", ... */
    public String platformName() {
        return platformName;
    }

    public String platformVersion() {
        return platformVersion;
    }

    public int processIndex() {
        return processIndex;
    }

    /** Every device of the computation (all processes). */
    public List<PjrtDevice> devices() {
        return devices;
    }

    /** The devices this process can use. */
    public List<PjrtDevice> addressableDevices() {
        return addressableDevices;
    }

    PjrtDevice deviceAt(MemorySegment ptr) {
        PjrtDevice d = byAddress.get(ptr.address());
        if (d == null) {
            throw new PjrtException(ErrorCode.INTERNAL, "plugin returned a device cohx does not know (address 0x" + Long.toHexString(ptr.address()) + ")");
        }
        return d;
    }

    /**
     * Copies a dense row-major host array onto {@code device}. {@code data} must hold at least
     * {@code product(dims) * type.byteSize()} bytes; it may be reused as soon as this returns.
     */
    public PjrtBuffer bufferFromHost(MemorySegment data, ElementType type, long[] dims, PjrtDevice device) {
        long n = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "bufferFromHost: negative dimension in " + Arrays.toString(dims));
            }
            n *= d;
        }
        long need = n * type.byteSize();
        if (data.byteSize() < need) {
            throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "bufferFromHost: " + type + Arrays.toString(dims) + " needs " + need
                    + " bytes, the host data has " + data.byteSize());
        }
        if (type == ElementType.INVALID) {
            throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "bufferFromHost: element type INVALID");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = data;
            if (!data.isNative()) {
                src = arena.allocate(Math.max(1, need), 64);
                MemorySegment.copy(data, 0, src, 0, need);
            }
            MemorySegment a = api.args(arena, PJRT_Client_BufferFromHostBuffer_Args.layout(), PJRT_Client_BufferFromHostBuffer_Args_STRUCT_SIZE());
            PJRT_Client_BufferFromHostBuffer_Args.client(a, ptr());
            PJRT_Client_BufferFromHostBuffer_Args.data(a, src);
            PJRT_Client_BufferFromHostBuffer_Args.type(a, type.code());
            PJRT_Client_BufferFromHostBuffer_Args.dims(a, dims.length == 0 ? MemorySegment.NULL : arena.allocateFrom(JAVA_LONG, dims));
            PJRT_Client_BufferFromHostBuffer_Args.num_dims(a, dims.length);
            // The data is copied before the call returns, so the caller may reuse it at once.
            PJRT_Client_BufferFromHostBuffer_Args.host_buffer_semantics(a, PJRT_HostBufferSemantics_kImmutableOnlyDuringCall());
            PJRT_Client_BufferFromHostBuffer_Args.device(a, device.ptr);
            api.call("PJRT_Client_BufferFromHostBuffer", a);
            MemorySegment done = PJRT_Client_BufferFromHostBuffer_Args.done_with_host_buffer(a);
            var buffer = new PjrtBuffer(this, PJRT_Client_BufferFromHostBuffer_Args.buffer(a));
            if (!done.equals(MemorySegment.NULL)) {
                new PjrtEvent(api, done).awaitAndClose();
            }
            return buffer;
        }
    }

    /** {@link #bufferFromHost(MemorySegment, ElementType, long[], PjrtDevice)} from a byte array. */
    public PjrtBuffer bufferFromHost(byte[] data, ElementType type, long[] dims, PjrtDevice device) {
        return bufferFromHost(MemorySegment.ofArray(data), type, dims, device);
    }

    /** Compiles a StableHLO module given as MLIR text; XLA's message is in the exception on failure. */
    public PjrtLoadedExecutable compile(String mlir, CompileOptions options) {
        byte[] code = mlir.getBytes(StandardCharsets.UTF_8);
        byte[] opts = options.toBytes();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment program = api.args(arena, PJRT_Program.layout(), PJRT_Program_STRUCT_SIZE());
            PJRT_Program.code(program, arena.allocateFrom(JAVA_BYTE, code));
            PJRT_Program.code_size(program, code.length);
            byte[] format = "mlir".getBytes(StandardCharsets.UTF_8);
            PJRT_Program.format(program, arena.allocateFrom(JAVA_BYTE, format));
            PJRT_Program.format_size(program, format.length);
            MemorySegment a = api.args(arena, PJRT_Client_Compile_Args.layout(), PJRT_Client_Compile_Args_STRUCT_SIZE());
            PJRT_Client_Compile_Args.client(a, ptr());
            PJRT_Client_Compile_Args.program(a, program);
            PJRT_Client_Compile_Args.compile_options(a, arena.allocateFrom(JAVA_BYTE, opts));
            PJRT_Client_Compile_Args.compile_options_size(a, opts.length);
            try {
                api.call("PJRT_Client_Compile", a);
            } catch (PjrtException e) {
                throw new PjrtException(e.code(), "compiling StableHLO failed: " + e.getMessage(), e);
            }
            return new PjrtLoadedExecutable(this, PJRT_Client_Compile_Args.executable(a), TensorType.mainSignature(mlir), options);
        }
    }

    /**
     * Loads an executable from {@link PjrtLoadedExecutable#serialize()} bytes (same plugin build
     * only). {@code parameters} are the argument types to check at execute, or null.
     */
    public PjrtLoadedExecutable deserialize(byte[] serialized, List<TensorType> parameters) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = api.args(arena, PJRT_Executable_DeserializeAndLoad_Args.layout(), PJRT_Executable_DeserializeAndLoad_Args_STRUCT_SIZE());
            PJRT_Executable_DeserializeAndLoad_Args.client(a, ptr());
            PJRT_Executable_DeserializeAndLoad_Args.serialized_executable(a, arena.allocateFrom(JAVA_BYTE, serialized));
            PJRT_Executable_DeserializeAndLoad_Args.serialized_executable_size(a, serialized.length);
            api.call("PJRT_Executable_DeserializeAndLoad", a);
            return new PjrtLoadedExecutable(this, PJRT_Executable_DeserializeAndLoad_Args.loaded_executable(a), parameters, null);
        }
    }

    @Override
    public String toString() {
        return "PjrtClient[" + platformName + ", " + addressableDevices.size() + " devices]";
    }
}
