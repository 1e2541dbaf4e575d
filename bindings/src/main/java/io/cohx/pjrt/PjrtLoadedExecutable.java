package io.cohx.pjrt;

import io.cohx.pjrt.capi.PJRT_ExecuteOptions;
import io.cohx.pjrt.capi.PJRT_Executable_Destroy_Args;
import io.cohx.pjrt.capi.PJRT_Executable_GetCompiledMemoryStats_Args;
import io.cohx.pjrt.capi.PJRT_Executable_Name_Args;
import io.cohx.pjrt.capi.PJRT_Executable_NumOutputs_Args;
import io.cohx.pjrt.capi.PJRT_Executable_OutputDimensions_Args;
import io.cohx.pjrt.capi.PJRT_Executable_OutputElementTypes_Args;
import io.cohx.pjrt.capi.PJRT_Executable_Serialize_Args;
import io.cohx.pjrt.capi.PJRT_LoadedExecutable_AddressableDevices_Args;
import io.cohx.pjrt.capi.PJRT_LoadedExecutable_Destroy_Args;
import io.cohx.pjrt.capi.PJRT_LoadedExecutable_Execute_Args;
import io.cohx.pjrt.capi.PJRT_LoadedExecutable_GetExecutable_Args;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;

import static io.cohx.pjrt.capi.PjrtCApi.*;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A compiled program loaded on its devices. {@link #execute} takes one argument list per
 * addressable device (in {@link #addressableDevices()} order) and returns one output list per
 * device; arguments are checked against the program's signature first, so a wrong count, dtype
 * or shape is an exception and never reaches the plugin. Thread-safe (PJRT executes concurrently).
 */
public final class PjrtLoadedExecutable extends NativeResource {
    private final PjrtClient client;
    private final List<TensorType> parameters;
    private final boolean singlePartition;
    private final int numOutputs;
    private final List<ElementType> outputTypes;
    private final List<long[]> outputDims;
    private final List<PjrtDevice> devices;
    private final String name;

    PjrtLoadedExecutable(PjrtClient client, MemorySegment ptr, List<TensorType> parameters, CompileOptions options) {
        super("PjrtLoadedExecutable", ptr, p -> destroy(client.api, p), client);
        this.client = client;
        this.parameters = parameters == null ? null : List.copyOf(parameters);
        this.singlePartition = options != null && options.numPartitions() == 1;
        Api api = client.api;
        Outputs outputs = withExecutable(api, ptr, (arena, exe) -> readOutputs(api, arena, exe));
        this.numOutputs = outputs.count();
        this.outputTypes = outputs.types();
        this.outputDims = outputs.dims();
        this.name = outputs.programName();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = api.args(arena, PJRT_LoadedExecutable_AddressableDevices_Args.layout(),
                    PJRT_LoadedExecutable_AddressableDevices_Args_STRUCT_SIZE());
            PJRT_LoadedExecutable_AddressableDevices_Args.executable(a, ptr);
            api.call("PJRT_LoadedExecutable_AddressableDevices", a);
            long n = PJRT_LoadedExecutable_AddressableDevices_Args.num_addressable_devices(a);
            MemorySegment arr = PJRT_LoadedExecutable_AddressableDevices_Args.addressable_devices(a).reinterpret(ADDRESS.byteSize() * n);
            var devs = new ArrayList<PjrtDevice>();
            for (long i = 0; i < n; i++) {
                devs.add(client.deviceAt(arr.getAtIndex(ADDRESS, i)));
            }
            this.devices = List.copyOf(devs);
        }
    }

    /** What the compiled program returns per device, and its name. */
    private record Outputs(int count, List<ElementType> types, List<long[]> dims, String programName) {}

    private static Outputs readOutputs(Api api, Arena arena, MemorySegment exe) {
        MemorySegment a = api.args(arena, PJRT_Executable_NumOutputs_Args.layout(), PJRT_Executable_NumOutputs_Args_STRUCT_SIZE());
        PJRT_Executable_NumOutputs_Args.executable(a, exe);
        api.call("PJRT_Executable_NumOutputs", a);
        int count = (int) PJRT_Executable_NumOutputs_Args.num_outputs(a);

        a = api.args(arena, PJRT_Executable_OutputElementTypes_Args.layout(), PJRT_Executable_OutputElementTypes_Args_STRUCT_SIZE());
        PJRT_Executable_OutputElementTypes_Args.executable(a, exe);
        api.call("PJRT_Executable_OutputElementTypes", a);
        long nt = PJRT_Executable_OutputElementTypes_Args.num_output_types(a);
        int[] codes = nt == 0 ? new int[0]
                : PJRT_Executable_OutputElementTypes_Args.output_types(a).reinterpret(JAVA_INT.byteSize() * nt).toArray(JAVA_INT);
        var types = new ArrayList<ElementType>();
        for (int c : codes) {
            types.add(ElementType.ofCode(c));
        }

        a = api.args(arena, PJRT_Executable_OutputDimensions_Args.layout(), PJRT_Executable_OutputDimensions_Args_STRUCT_SIZE());
        PJRT_Executable_OutputDimensions_Args.executable(a, exe);
        api.call("PJRT_Executable_OutputDimensions", a);
        long no = PJRT_Executable_OutputDimensions_Args.num_outputs(a);
        long[] sizes = no == 0 ? new long[0]
                : PJRT_Executable_OutputDimensions_Args.dim_sizes(a).reinterpret(JAVA_LONG.byteSize() * no).toArray(JAVA_LONG);
        long total = Arrays.stream(sizes).sum();
        long[] flat = total == 0 ? new long[0]
                : PJRT_Executable_OutputDimensions_Args.dims(a).reinterpret(JAVA_LONG.byteSize() * total).toArray(JAVA_LONG);
        var dims = new ArrayList<long[]>();
        int at = 0;
        for (long s : sizes) {
            dims.add(Arrays.copyOfRange(flat, at, at + (int) s));
            at += (int) s;
        }

        a = api.args(arena, PJRT_Executable_Name_Args.layout(), PJRT_Executable_Name_Args_STRUCT_SIZE());
        PJRT_Executable_Name_Args.executable(a, exe);
        api.call("PJRT_Executable_Name", a);
        String name = Api.string(PJRT_Executable_Name_Args.executable_name(a), PJRT_Executable_Name_Args.executable_name_size(a));
        return new Outputs(count, List.copyOf(types), List.copyOf(dims), name);
    }

    private static void destroy(Api api, MemorySegment p) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = api.args(arena, PJRT_LoadedExecutable_Destroy_Args.layout(), PJRT_LoadedExecutable_Destroy_Args_STRUCT_SIZE());
            PJRT_LoadedExecutable_Destroy_Args.executable(a, p);
            api.call("PJRT_LoadedExecutable_Destroy", a);
        }
    }

    public String name() {
        return name;
    }

    /** Outputs per device. */
    public int numOutputs() {
        return numOutputs;
    }

    /** Element type of each output. */
    public List<ElementType> outputTypes() {
        return outputTypes;
    }

    /** Per-device dimensions of each output (shard shapes after SPMD partitioning). */
    public List<long[]> outputDims() {
        return outputDims.stream().map(long[]::clone).toList();
    }

    /** The argument types of the program's {@code main}, when known. */
    public List<TensorType> parameters() {
        return parameters;
    }

    /** The devices the program runs on; argument list i belongs to device i. */
    public List<PjrtDevice> addressableDevices() {
        return devices;
    }

    /**
     * Device memory the compiled program needs per device (arguments, outputs, aliased bytes,
     * temporaries, peak), as the plugin reports it: the answer to "will this fit?" before running.
     */
    public CompiledMemoryStats compiledMemoryStats() {
        Api api = client.api;
        return withExecutable(api, ptr(), (arena, exe) -> {
            MemorySegment a = api.args(arena, PJRT_Executable_GetCompiledMemoryStats_Args.layout(),
                    PJRT_Executable_GetCompiledMemoryStats_Args_STRUCT_SIZE());
            PJRT_Executable_GetCompiledMemoryStats_Args.executable(a, exe);
            api.call("PJRT_Executable_GetCompiledMemoryStats", a);
            return new CompiledMemoryStats(PJRT_Executable_GetCompiledMemoryStats_Args.generated_code_size_in_bytes(a),
                    PJRT_Executable_GetCompiledMemoryStats_Args.argument_size_in_bytes(a),
                    PJRT_Executable_GetCompiledMemoryStats_Args.output_size_in_bytes(a),
                    PJRT_Executable_GetCompiledMemoryStats_Args.alias_size_in_bytes(a),
                    PJRT_Executable_GetCompiledMemoryStats_Args.temp_size_in_bytes(a),
                    PJRT_Executable_GetCompiledMemoryStats_Args.peak_memory_in_bytes(a));
        });
    }

    /** Per-device memory of a compiled program, in bytes; peak is 0 where the plugin does not report it. */
    public record CompiledMemoryStats(long generatedCode, long arguments, long outputs, long aliased, long temporaries, long peak) {}

    /** The executable as bytes, loadable by {@link PjrtClient#deserialize} with the same plugin build. */
    public byte[] serialize() {
        Api api = client.api;
        return withExecutable(api, ptr(), (arena, exe) -> {
            MemorySegment a = api.args(arena, PJRT_Executable_Serialize_Args.layout(), PJRT_Executable_Serialize_Args_STRUCT_SIZE());
            PJRT_Executable_Serialize_Args.executable(a, exe);
            api.call("PJRT_Executable_Serialize", a);
            long size = PJRT_Executable_Serialize_Args.serialized_bytes_size(a);
            byte[] bytes = PJRT_Executable_Serialize_Args.serialized_bytes(a).reinterpret(size).toArray(JAVA_BYTE);
            // The bytes belong to serialized_executable, which the caller frees with the deleter given.
            MemorySegment deleter = PJRT_Executable_Serialize_Args.serialized_executable_deleter(a);
            if (!deleter.equals(MemorySegment.NULL)) {
                PJRT_Executable_Serialize_Args.serialized_executable_deleter.invoke(deleter, PJRT_Executable_Serialize_Args.serialized_executable(a));
            }
            return bytes;
        });
    }

    /** Runs {@code body} with the loaded executable's {@code PJRT_Executable} (fetched and destroyed around it). */
    private static <T> T withExecutable(Api api, MemorySegment loaded, BiFunction<Arena, MemorySegment, T> body) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment g = api.args(arena, PJRT_LoadedExecutable_GetExecutable_Args.layout(), PJRT_LoadedExecutable_GetExecutable_Args_STRUCT_SIZE());
            PJRT_LoadedExecutable_GetExecutable_Args.loaded_executable(g, loaded);
            api.call("PJRT_LoadedExecutable_GetExecutable", g);
            MemorySegment exe = PJRT_LoadedExecutable_GetExecutable_Args.executable(g);
            try {
                return body.apply(arena, exe);
            } finally {
                MemorySegment d = api.args(arena, PJRT_Executable_Destroy_Args.layout(), PJRT_Executable_Destroy_Args_STRUCT_SIZE());
                PJRT_Executable_Destroy_Args.executable(d, exe);
                api.call("PJRT_Executable_Destroy", d);
            }
        }
    }

    /** Runs the program once, every input donatable (as aliasing in the program says). */
    public List<List<PjrtBuffer>> execute(List<List<PjrtBuffer>> argumentLists) {
        return execute(argumentLists, Set.of());
    }

    /**
     * Runs the program once on every addressable device and waits for it to finish.
     *
     * @param argumentLists one list per device, in {@link #addressableDevices()} order
     * @param nonDonatable  argument indices that must not be donated even if the program aliases them
     * @return one list of outputs per device; the caller owns (closes) them
     */
    public List<List<PjrtBuffer>> execute(List<List<PjrtBuffer>> argumentLists, Set<Integer> nonDonatable) {
        MemorySegment self = ptr();
        check(argumentLists);
        int nd = argumentLists.size();
        int na = argumentLists.getFirst().size();
        Api api = client.api;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment lists = arena.allocate(ADDRESS, nd);
            MemorySegment outs = arena.allocate(ADDRESS, nd);
            for (int d = 0; d < nd; d++) {
                MemorySegment args = arena.allocate(ADDRESS, Math.max(1, na));
                for (int i = 0; i < na; i++) {
                    args.setAtIndex(ADDRESS, i, argumentLists.get(d).get(i).ptr());
                }
                lists.setAtIndex(ADDRESS, d, args);
                outs.setAtIndex(ADDRESS, d, arena.allocate(ADDRESS, Math.max(1, numOutputs)));
            }
            MemorySegment events = arena.allocate(ADDRESS, nd);
            MemorySegment opts = api.args(arena, PJRT_ExecuteOptions.layout(), PJRT_ExecuteOptions_STRUCT_SIZE());
            if (!nonDonatable.isEmpty()) {
                long[] idx = nonDonatable.stream().mapToLong(Integer::longValue).sorted().toArray();
                PJRT_ExecuteOptions.non_donatable_input_indices(opts, arena.allocateFrom(JAVA_LONG, idx));
                PJRT_ExecuteOptions.num_non_donatable_input_indices(opts, idx.length);
            }
            MemorySegment a = api.args(arena, PJRT_LoadedExecutable_Execute_Args.layout(), PJRT_LoadedExecutable_Execute_Args_STRUCT_SIZE());
            PJRT_LoadedExecutable_Execute_Args.executable(a, self);
            PJRT_LoadedExecutable_Execute_Args.options(a, opts);
            PJRT_LoadedExecutable_Execute_Args.argument_lists(a, lists);
            PJRT_LoadedExecutable_Execute_Args.num_devices(a, nd);
            PJRT_LoadedExecutable_Execute_Args.num_args(a, na);
            PJRT_LoadedExecutable_Execute_Args.output_lists(a, outs);
            PJRT_LoadedExecutable_Execute_Args.device_complete_events(a, events);
            api.call("PJRT_LoadedExecutable_Execute", a);

            var result = new ArrayList<List<PjrtBuffer>>();
            for (int d = 0; d < nd; d++) {
                MemorySegment o = outs.getAtIndex(ADDRESS, d).reinterpret(ADDRESS.byteSize() * Math.max(1, numOutputs));
                var row = new ArrayList<PjrtBuffer>();
                for (int i = 0; i < numOutputs; i++) {
                    row.add(new PjrtBuffer(client, o.getAtIndex(ADDRESS, i)));
                }
                result.add(List.copyOf(row));
            }
            PjrtException failure = null;
            for (int d = 0; d < nd; d++) {
                MemorySegment e = events.getAtIndex(ADDRESS, d);
                if (!e.equals(MemorySegment.NULL)) {
                    try {
                        new PjrtEvent(api, e).awaitAndClose();
                    } catch (PjrtException ex) {
                        failure = failure == null ? ex : failure;
                    }
                }
            }
            if (failure != null) {
                result.forEach(row -> row.forEach(PjrtBuffer::close));
                throw new PjrtException(failure.code(), "executing " + name + " failed: " + failure.getMessage(), failure);
            }
            return List.copyOf(result);
        }
    }

    private void check(List<List<PjrtBuffer>> argumentLists) {
        if (argumentLists.size() != devices.size()) {
            throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "execute " + name + ": got " + argumentLists.size()
                    + " argument lists, but the program runs on " + devices.size() + " devices (one list per device)");
        }
        int na = argumentLists.getFirst().size();
        for (int d = 0; d < argumentLists.size(); d++) {
            List<PjrtBuffer> args = argumentLists.get(d);
            if (args.size() != na) {
                throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "execute " + name + ": argument list " + d + " has "
                        + args.size() + " buffers, list 0 has " + na);
            }
            if (parameters != null && args.size() != parameters.size()) {
                throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "execute " + name + ": got " + args.size()
                        + " arguments, the program takes " + parameters.size() + " " + parameters);
            }
            for (int i = 0; i < args.size(); i++) {
                PjrtBuffer b = args.get(i);
                if (b.isClosed() || b.isDeleted()) {
                    throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "execute " + name + ": argument " + i
                            + " (device " + d + ") was closed, donated or deleted");
                }
                if (parameters != null) {
                    TensorType want = parameters.get(i);
                    boolean ok = b.elementType() == want.type() && (singlePartition
                            ? Arrays.equals(b.dims(), want.dims()) : b.dims().length == want.dims().length);
                    if (!ok) {
                        throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "execute " + name + ": argument " + i + " (device " + d
                                + ") is " + new TensorType(b.elementType(), b.dims()) + " but the program expects " + want);
                    }
                }
            }
        }
    }
}
