package io.cohx.pjrt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
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

    private PjrtClient(PjrtPlugin plugin, MemorySegment ptr) {
        super("PjrtClient", ptr, p -> destroy(plugin.api, p), null);
        this.plugin = plugin;
        this.api = plugin.api;
        try (Arena arena = Arena.ofConfined()) {
            Struct s = Structs.CLIENT_PLATFORM_NAME;
            MemorySegment a = Api.args(arena, s);
            a.set(ADDRESS, s.off("client"), ptr);
            api.call("PJRT_Client_PlatformName", a);
            this.platformName = Api.string(a.get(ADDRESS, s.off("platform_name")), a.get(JAVA_LONG, s.off("platform_name_size")));
            s = Structs.CLIENT_PLATFORM_VERSION;
            a = Api.args(arena, s);
            a.set(ADDRESS, s.off("client"), ptr);
            api.call("PJRT_Client_PlatformVersion", a);
            this.platformVersion = Api.string(a.get(ADDRESS, s.off("platform_version")), a.get(JAVA_LONG, s.off("platform_version_size")));
            a = Api.args(arena, Structs.CLIENT_PROCESS_INDEX);
            a.set(ADDRESS, Structs.CLIENT_PROCESS_INDEX.off("client"), ptr);
            api.call("PJRT_Client_ProcessIndex", a);
            this.processIndex = a.get(JAVA_INT, Structs.CLIENT_PROCESS_INDEX.off("process_index"));
        }
        this.devices = readDevices(ptr, Structs.CLIENT_DEVICES, "PJRT_Client_Devices", "devices", "num_devices");
        this.addressableDevices = readDevices(ptr, Structs.CLIENT_ADDRESSABLE_DEVICES, "PJRT_Client_AddressableDevices",
                "addressable_devices", "num_addressable_devices");
    }

    private List<PjrtDevice> readDevices(MemorySegment client, Struct s, String fn, String arrayField, String countField) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = Api.args(arena, s);
            a.set(ADDRESS, s.off("client"), client);
            api.call(fn, a);
            long n = a.get(JAVA_LONG, s.off(countField));
            MemorySegment arr = a.get(ADDRESS, s.off(arrayField)).reinterpret(8 * n);
            var out = new ArrayList<PjrtDevice>();
            for (long i = 0; i < n; i++) {
                MemorySegment d = arr.getAtIndex(ADDRESS, i);
                PjrtDevice dev = byAddress.computeIfAbsent(d.address(), k -> new PjrtDevice(api, d));
                out.add(dev);
            }
            return List.copyOf(out);
        }
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
        synchronized (LIFECYCLE) {
            try (Arena arena = Arena.ofConfined()) {
                Struct s = Structs.CLIENT_CREATE;
                MemorySegment a = Api.args(arena, s);
                a.set(ADDRESS, s.off("create_options"), NamedValues.write(arena, options));
                a.set(JAVA_LONG, s.off("num_options"), options.size());
                plugin.api.call("PJRT_Client_Create", a);
                return new PjrtClient(plugin, a.get(ADDRESS, s.off("client")));
            }
        }
    }

    private static void destroy(Api api, MemorySegment p) {
        synchronized (LIFECYCLE) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment a = Api.args(arena, Structs.CLIENT_DESTROY);
                a.set(ADDRESS, Structs.CLIENT_DESTROY.off("client"), p);
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
            Struct s = Structs.CLIENT_BUFFER_FROM_HOST;
            MemorySegment a = Api.args(arena, s);
            a.set(ADDRESS, s.off("client"), ptr());
            a.set(ADDRESS, s.off("data"), src);
            a.set(JAVA_INT, s.off("type"), type.code());
            a.set(ADDRESS, s.off("dims"), dims.length == 0 ? MemorySegment.NULL : arena.allocateFrom(JAVA_LONG, dims));
            a.set(JAVA_LONG, s.off("num_dims"), dims.length);
            a.set(JAVA_INT, s.off("host_buffer_semantics"), 0); // kImmutableOnlyDuringCall
            a.set(ADDRESS, s.off("device"), device.ptr);
            api.call("PJRT_Client_BufferFromHostBuffer", a);
            MemorySegment done = a.get(ADDRESS, s.off("done_with_host_buffer"));
            var buffer = new PjrtBuffer(this, a.get(ADDRESS, s.off("buffer")));
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
            Struct ps = Structs.PROGRAM;
            MemorySegment program = Api.args(arena, ps);
            program.set(ADDRESS, ps.off("code"), arena.allocateFrom(JAVA_BYTE, code));
            program.set(JAVA_LONG, ps.off("code_size"), code.length);
            byte[] format = "mlir".getBytes(StandardCharsets.UTF_8);
            program.set(ADDRESS, ps.off("format"), arena.allocateFrom(JAVA_BYTE, format));
            program.set(JAVA_LONG, ps.off("format_size"), format.length);
            Struct s = Structs.CLIENT_COMPILE;
            MemorySegment a = Api.args(arena, s);
            a.set(ADDRESS, s.off("client"), ptr());
            a.set(ADDRESS, s.off("program"), program);
            a.set(ADDRESS, s.off("compile_options"), arena.allocateFrom(JAVA_BYTE, opts));
            a.set(JAVA_LONG, s.off("compile_options_size"), opts.length);
            try {
                api.call("PJRT_Client_Compile", a);
            } catch (PjrtException e) {
                throw new PjrtException(e.code(), "compiling StableHLO failed: " + e.getMessage(), e);
            }
            return new PjrtLoadedExecutable(this, a.get(ADDRESS, s.off("executable")), TensorType.mainSignature(mlir), options);
        }
    }

    /**
     * Loads an executable from {@link PjrtLoadedExecutable#serialize()} bytes (same plugin build
     * only). {@code parameters} are the argument types to check at execute, or null.
     */
    public PjrtLoadedExecutable deserialize(byte[] serialized, List<TensorType> parameters) {
        try (Arena arena = Arena.ofConfined()) {
            Struct s = Structs.EXECUTABLE_DESERIALIZE_AND_LOAD;
            MemorySegment a = Api.args(arena, s);
            a.set(ADDRESS, s.off("client"), ptr());
            a.set(ADDRESS, s.off("serialized_executable"), arena.allocateFrom(JAVA_BYTE, serialized));
            a.set(JAVA_LONG, s.off("serialized_executable_size"), serialized.length);
            api.call("PJRT_Executable_DeserializeAndLoad", a);
            return new PjrtLoadedExecutable(this, a.get(ADDRESS, s.off("loaded_executable")), parameters, null);
        }
    }

    @Override
    public String toString() {
        return "PjrtClient[" + platformName + ", " + addressableDevices.size() + " devices]";
    }
}
