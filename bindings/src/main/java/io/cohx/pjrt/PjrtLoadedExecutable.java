package io.cohx.pjrt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

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
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment g = Api.args(arena, Structs.LOADED_EXECUTABLE_GET_EXECUTABLE);
            g.set(ADDRESS, Structs.LOADED_EXECUTABLE_GET_EXECUTABLE.off("loaded_executable"), ptr);
            api.call("PJRT_LoadedExecutable_GetExecutable", g);
            MemorySegment exe = g.get(ADDRESS, Structs.LOADED_EXECUTABLE_GET_EXECUTABLE.off("executable"));
            try {
                MemorySegment a = Api.args(arena, Structs.EXECUTABLE_NUM_OUTPUTS);
                a.set(ADDRESS, Structs.EXECUTABLE_NUM_OUTPUTS.off("executable"), exe);
                api.call("PJRT_Executable_NumOutputs", a);
                this.numOutputs = (int) a.get(JAVA_LONG, Structs.EXECUTABLE_NUM_OUTPUTS.off("num_outputs"));

                Struct ts = Structs.EXECUTABLE_OUTPUT_ELEMENT_TYPES;
                a = Api.args(arena, ts);
                a.set(ADDRESS, ts.off("executable"), exe);
                api.call("PJRT_Executable_OutputElementTypes", a);
                long nt = a.get(JAVA_LONG, ts.off("num_output_types"));
                int[] codes = nt == 0 ? new int[0] : a.get(ADDRESS, ts.off("output_types")).reinterpret(4 * nt).toArray(JAVA_INT);
                var types = new ArrayList<ElementType>();
                for (int c : codes) {
                    types.add(ElementType.ofCode(c));
                }
                this.outputTypes = List.copyOf(types);

                Struct ds = Structs.EXECUTABLE_OUTPUT_DIMENSIONS;
                a = Api.args(arena, ds);
                a.set(ADDRESS, ds.off("executable"), exe);
                api.call("PJRT_Executable_OutputDimensions", a);
                long no = a.get(JAVA_LONG, ds.off("num_outputs"));
                long[] sizes = no == 0 ? new long[0] : a.get(ADDRESS, ds.off("dim_sizes")).reinterpret(8 * no).toArray(JAVA_LONG);
                long total = Arrays.stream(sizes).sum();
                long[] flat = total == 0 ? new long[0] : a.get(ADDRESS, ds.off("dims")).reinterpret(8 * total).toArray(JAVA_LONG);
                var dims = new ArrayList<long[]>();
                int at = 0;
                for (long s : sizes) {
                    dims.add(Arrays.copyOfRange(flat, at, at + (int) s));
                    at += (int) s;
                }
                this.outputDims = List.copyOf(dims);

                Struct ns = Structs.EXECUTABLE_NAME;
                a = Api.args(arena, ns);
                a.set(ADDRESS, ns.off("executable"), exe);
                api.call("PJRT_Executable_Name", a);
                this.name = Api.string(a.get(ADDRESS, ns.off("executable_name")), a.get(JAVA_LONG, ns.off("executable_name_size")));
            } finally {
                MemorySegment d = Api.args(arena, Structs.EXECUTABLE_DESTROY);
                d.set(ADDRESS, Structs.EXECUTABLE_DESTROY.off("executable"), exe);
                api.call("PJRT_Executable_Destroy", d);
            }

            Struct s = Structs.LOADED_EXECUTABLE_ADDRESSABLE_DEVICES;
            MemorySegment a = Api.args(arena, s);
            a.set(ADDRESS, s.off("executable"), ptr);
            api.call("PJRT_LoadedExecutable_AddressableDevices", a);
            long n = a.get(JAVA_LONG, s.off("num_addressable_devices"));
            MemorySegment arr = a.get(ADDRESS, s.off("addressable_devices")).reinterpret(8 * n);
            var devs = new ArrayList<PjrtDevice>();
            for (long i = 0; i < n; i++) {
                devs.add(client.deviceAt(arr.getAtIndex(ADDRESS, i)));
            }
            this.devices = List.copyOf(devs);
        }
    }

    private static void destroy(Api api, MemorySegment p) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = Api.args(arena, Structs.LOADED_EXECUTABLE_DESTROY);
            a.set(ADDRESS, Structs.LOADED_EXECUTABLE_DESTROY.off("executable"), p);
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
        return withExecutable(ptr(), (arena, exe) -> {
            Struct s = Structs.EXECUTABLE_COMPILED_MEMORY_STATS;
            MemorySegment a = Api.args(arena, s);
            a.set(ADDRESS, s.off("executable"), exe);
            client.api.call("PJRT_Executable_GetCompiledMemoryStats", a);
            return new CompiledMemoryStats(a.get(JAVA_LONG, s.off("generated_code_size_in_bytes")),
                    a.get(JAVA_LONG, s.off("argument_size_in_bytes")), a.get(JAVA_LONG, s.off("output_size_in_bytes")),
                    a.get(JAVA_LONG, s.off("alias_size_in_bytes")), a.get(JAVA_LONG, s.off("temp_size_in_bytes")),
                    a.get(JAVA_LONG, s.off("peak_memory_in_bytes")));
        });
    }

    /** Per-device memory of a compiled program, in bytes; peak is 0 where the plugin does not report it. */
    public record CompiledMemoryStats(long generatedCode, long arguments, long outputs, long aliased, long temporaries, long peak) {}

    /** The executable as bytes, loadable by {@link PjrtClient#deserialize} with the same plugin build. */
    public byte[] serialize() {
        return withExecutable(ptr(), (arena, exe) -> {
            Struct s = Structs.EXECUTABLE_SERIALIZE;
            MemorySegment a = Api.args(arena, s);
            a.set(ADDRESS, s.off("executable"), exe);
            client.api.call("PJRT_Executable_Serialize", a);
            long size = a.get(JAVA_LONG, s.off("serialized_bytes_size"));
            byte[] bytes = a.get(ADDRESS, s.off("serialized_bytes")).reinterpret(size).toArray(JAVA_BYTE);
            MemorySegment deleter = a.get(ADDRESS, s.off("serialized_executable_deleter"));
            MemorySegment handle = a.get(ADDRESS, s.off("serialized_executable"));
            if (!deleter.equals(MemorySegment.NULL)) {
                var h = java.lang.foreign.Linker.nativeLinker().downcallHandle(deleter, java.lang.foreign.FunctionDescriptor.ofVoid(ADDRESS));
                try {
                    h.invokeExact(handle);
                } catch (Throwable t) {
                    throw new PjrtException(ErrorCode.INTERNAL, "serialized executable deleter failed: " + t, t);
                }
            }
            return bytes;
        });
    }

    /** Runs {@code body} with this executable's {@code PJRT_Executable} (fetched and destroyed around it). */
    private <T> T withExecutable(MemorySegment loaded, java.util.function.BiFunction<Arena, MemorySegment, T> body) {
        Api api = client.api;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment g = Api.args(arena, Structs.LOADED_EXECUTABLE_GET_EXECUTABLE);
            g.set(ADDRESS, Structs.LOADED_EXECUTABLE_GET_EXECUTABLE.off("loaded_executable"), loaded);
            api.call("PJRT_LoadedExecutable_GetExecutable", g);
            MemorySegment exe = g.get(ADDRESS, Structs.LOADED_EXECUTABLE_GET_EXECUTABLE.off("executable"));
            try {
                return body.apply(arena, exe);
            } finally {
                MemorySegment d = Api.args(arena, Structs.EXECUTABLE_DESTROY);
                d.set(ADDRESS, Structs.EXECUTABLE_DESTROY.off("executable"), exe);
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
            MemorySegment lists = arena.allocate(8L * nd, 8);
            MemorySegment outs = arena.allocate(8L * nd, 8);
            for (int d = 0; d < nd; d++) {
                MemorySegment args = arena.allocate(8L * Math.max(1, na), 8);
                for (int i = 0; i < na; i++) {
                    args.setAtIndex(ADDRESS, i, argumentLists.get(d).get(i).ptr());
                }
                lists.setAtIndex(ADDRESS, d, args);
                outs.setAtIndex(ADDRESS, d, arena.allocate(8L * Math.max(1, numOutputs), 8));
            }
            MemorySegment events = arena.allocate(8L * nd, 8);
            Struct os = Structs.EXECUTE_OPTIONS;
            MemorySegment opts = Api.args(arena, os);
            if (!nonDonatable.isEmpty()) {
                long[] idx = nonDonatable.stream().mapToLong(Integer::longValue).sorted().toArray();
                opts.set(ADDRESS, os.off("non_donatable_input_indices"), arena.allocateFrom(JAVA_LONG, idx));
                opts.set(JAVA_LONG, os.off("num_non_donatable_input_indices"), idx.length);
            }
            Struct s = Structs.LOADED_EXECUTABLE_EXECUTE;
            MemorySegment a = Api.args(arena, s);
            a.set(ADDRESS, s.off("executable"), self);
            a.set(ADDRESS, s.off("options"), opts);
            a.set(ADDRESS, s.off("argument_lists"), lists);
            a.set(JAVA_LONG, s.off("num_devices"), nd);
            a.set(JAVA_LONG, s.off("num_args"), na);
            a.set(ADDRESS, s.off("output_lists"), outs);
            a.set(ADDRESS, s.off("device_complete_events"), events);
            api.call("PJRT_LoadedExecutable_Execute", a);

            var result = new ArrayList<List<PjrtBuffer>>();
            for (int d = 0; d < nd; d++) {
                MemorySegment o = outs.getAtIndex(ADDRESS, d).reinterpret(8L * Math.max(1, numOutputs));
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
