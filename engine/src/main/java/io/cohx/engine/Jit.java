package io.cohx.engine;

import io.cohx.engine.mesh.Mesh;
import io.cohx.engine.mesh.MeshException;
import io.cohx.engine.mesh.PartitionSpec;
import io.cohx.engine.mesh.ShardedTransfer;
import io.cohx.pjrt.CompileOptions;
import io.cohx.pjrt.PjrtBuffer;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtDevice;
import io.cohx.pjrt.PjrtException;
import io.cohx.pjrt.PjrtLoadedExecutable;
import io.cohx.pjrt.TensorType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A function of parameter trees compiled on demand: the first call with new input types traces,
 * emits and compiles it; later calls with the same types reuse the executable. Inputs may be
 * host ({@link NdArray}) or device ({@link DeviceArray}) arrays; outputs stay on the device.
 * Inputs under a donated prefix are aliased to outputs of the same type, so state such as
 * parameters is updated in place and the passed arrays are consumed.
 *
 * <p>With {@link Builder#mesh} the function runs on every device of a {@link Mesh}: each input
 * and output gets a layout (a {@link PartitionSpec}, by path), the program carries Shardy
 * {@code sdy.sharding} annotations and XLA's SPMD partitioner splits it. Host inputs are put on the
 * mesh as shards, sharded inputs must already have the expected layout, and outputs come back
 * sharded. A dimension its axes do not divide is an error naming the tensor before anything compiles.
 *
 * <p>With a {@link CompileCache} installed, executables are loaded from disk when this program,
 * with these options, was compiled before by the same plugin (in this or another process).
 *
 * <p>Set {@code COHX_DUMP_DIR} (or {@link Builder#dumpTo}) to write every compiled module there.
 */
public final class Jit implements AutoCloseable {
    private static final AtomicLong TOTAL_COMPILES = new AtomicLong();

    private final String name;
    private final Function<Tree<Tensor>, Tree<Tensor>> fn;
    private final PjrtClient client;
    private final List<String> donated;
    private final Program.Annotations annotations;
    private final Tree<ArrayType> inputSpec;
    private final Path dumpDir;
    private final Mesh mesh;
    private final Function<String, PartitionSpec> inSpecs;
    private final Function<String, PartitionSpec> outSpecs;
    private final CompileCache diskCache;
    private final Map<Key, Compiled> cache = new ConcurrentHashMap<>();
    private final AtomicInteger compiles = new AtomicInteger();
    private final AtomicInteger specializations = new AtomicInteger();

    /** Input paths and types, and (under a mesh) their canonical layouts. */
    private record Key(List<String> paths, List<ArrayType> types, List<PartitionSpec> specs) {}

    /** One compiled specialization; the spec lists are empty without a mesh. */
    record Compiled(Program program, String mlir, PjrtLoadedExecutable exe, List<String> inPaths, List<ArrayType> inTypes,
                    Set<Integer> donatedArgs, List<String> outPaths, List<ArrayType> outTypes, List<PartitionSpec> inSpecs,
                    List<PartitionSpec> outSpecs) {}

    private Jit(Builder b) {
        this.name = b.name;
        this.fn = b.fn;
        this.client = b.client;
        this.donated = List.copyOf(b.donated);
        this.annotations = b.annotations;
        this.inputSpec = b.inputSpec;
        this.mesh = b.mesh;
        this.inSpecs = b.inSpecs;
        this.outSpecs = b.outSpecs;
        this.diskCache = b.diskCache;
        if (mesh != null && b.annotations != Program.Annotations.NONE) {
            throw new EngineException(name + ": set either mesh(...) or annotations(...), not both; the mesh writes the sharding annotations");
        }
        String env = System.getenv("COHX_DUMP_DIR");
        this.dumpDir = b.dumpDir != null ? b.dumpDir : env != null && !env.isBlank() ? Path.of(env) : null;
    }

    public static Builder builder(String name, Function<Tree<Tensor>, Tree<Tensor>> fn) {
        return new Builder(name, fn);
    }

    /** Options for a {@link Jit}. */
    public static final class Builder {
        private final String name;
        private final Function<Tree<Tensor>, Tree<Tensor>> fn;
        private PjrtClient client;
        private final List<String> donated = new ArrayList<>();
        private Program.Annotations annotations = Program.Annotations.NONE;
        private Tree<ArrayType> inputSpec;
        private Path dumpDir;
        private Mesh mesh;
        private Function<String, PartitionSpec> inSpecs;
        private Function<String, PartitionSpec> outSpecs;
        private CompileCache diskCache;

        private Builder(String name, Function<Tree<Tensor>, Tree<Tensor>> fn) {
            this.name = name;
            this.fn = fn;
        }

        /** Inputs whose path is {@code prefix} or starts with {@code prefix.} are donated. */
        public Builder donate(String... prefixes) {
            donated.addAll(List.of(prefixes));
            return this;
        }

        public Builder annotations(Program.Annotations a) {
            annotations = a;
            return this;
        }

        /** Declares the input types; a call with other types is an error saying what was expected. */
        public Builder inputSpec(Tree<ArrayType> spec) {
            inputSpec = spec;
            return this;
        }

        /**
         * Runs on every device of {@code mesh}: input and output paths map to their layouts
         * (e.g. parameters and optimizer state by {@code PartitionRules.LLAMA::specFor}, the batch by
         * {@code PartitionRules.BATCH}, scalars {@link PartitionSpec#REPLICATED}).
         */
        public Builder mesh(Mesh mesh, Function<String, PartitionSpec> inputSpecs, Function<String, PartitionSpec> outputSpecs) {
            this.mesh = mesh;
            this.inSpecs = inputSpecs;
            this.outSpecs = outputSpecs;
            return this;
        }

        /** Uses {@code cache} for this function instead of the one {@linkplain CompileCache#install installed} for the process. */
        public Builder compileCache(CompileCache cache) {
            diskCache = cache;
            return this;
        }

        public Builder dumpTo(Path dir) {
            dumpDir = dir;
            return this;
        }

        public Jit build(PjrtClient client) {
            this.client = client;
            return new Jit(this);
        }
    }

    /** XLA compiles performed by this function so far (executables loaded from a {@link CompileCache} do not count). */
    public int compileCount() {
        return compiles.get();
    }

    /** XLA compiles performed by every Jit in this process. */
    public static long totalCompiles() {
        return TOTAL_COMPILES.get();
    }

    /** The MLIR text compiled for these input types (compiling if needed). */
    public String mlir(Tree<?> inputs) {
        return specialize(inputs).mlir();
    }

    /** The mesh this function runs on; null for one device. */
    public Mesh mesh() {
        return mesh;
    }

    /**
     * Lays out {@code x} by {@code spec} at this point of a function traced under a mesh
     * ({@code sdy.sharding_constraint}); its gradient gets the same layout. Use it on activations
     * where the partitioner's own choice is poor (e.g. keep the batch split over dp and fsdp). Without
     * a mesh it returns {@code x} unchanged, so the same model code runs on one device.
     */
    public static Tensor shardingConstraint(Tensor x, PartitionSpec spec) {
        return Sharding.constrain(x, spec);
    }

    /** Runs the function; outputs stay on the device (sharded over the mesh when there is one). */
    public Tree<DeviceArray> call(Tree<?> inputs) {
        Compiled c = specialize(inputs);
        return mesh == null ? callOne(c, inputs) : callMesh(c, inputs);
    }

    private Tree<DeviceArray> callOne(Compiled c, Tree<?> inputs) {
        PjrtDevice device = client.addressableDevices().getFirst();
        List<PjrtBuffer> args = new ArrayList<>();
        List<PjrtBuffer> uploaded = new ArrayList<>();
        Set<Integer> keep = new HashSet<>();
        try {
            for (int i = 0; i < c.inPaths().size(); i++) {
                Object v = inputs.get(c.inPaths().get(i));
                PjrtBuffer b;
                if (v instanceof DeviceArray d) {
                    checkLive(c.inPaths().get(i), d);
                    if (d.isSharded()) {
                        throw new EngineException(name + ": argument '" + c.inPaths().get(i) + "' (" + d.type() + ") is sharded over "
                                + d.placement() + " but " + name + " runs on one device; pass toHost() of it or build the Jit with mesh(...)");
                    }
                    b = d.buffer();
                } else {
                    NdArray h = (NdArray) v;
                    b = client.bufferFromHost(h.segment(), h.dtype().elementType(), h.shape().longDims(), device);
                    uploaded.add(b);
                }
                args.add(b);
                if (!c.donatedArgs().contains(i)) {
                    keep.add(i);
                }
            }
            List<PjrtBuffer> outs;
            try {
                outs = c.exe().execute(List.of(args), keep).getFirst();
            } catch (PjrtException e) {
                throw new EngineException(name + ": running the compiled program failed: " + e.getMessage(), e);
            }
            List<DeviceArray> r = new ArrayList<>();
            for (PjrtBuffer b : outs) {
                r.add(new DeviceArray(b));
            }
            return Tree.of(c.outPaths(), r);
        } finally {
            for (PjrtBuffer b : uploaded) {
                if (b != null) { // null: a block on another process's device
                    b.close();
                }
            }
        }
    }

    private void checkLive(String path, DeviceArray d) {
        if (d.isDeleted()) {
            throw new EngineException(name + ": argument '" + path + "' (" + d.type()
                    + ") was donated to an earlier call or closed; pass the array that call returned");
        }
    }

    private Tree<DeviceArray> callMesh(Compiled c, Tree<?> inputs) {
        int n = mesh.size();
        // The executable's devices in its own order → their mesh positions (partition numbers).
        List<PjrtDevice> exeDevices = c.exe().addressableDevices();
        int[] partition = new int[exeDevices.size()];
        for (int k = 0; k < partition.length; k++) {
            partition[k] = mesh.devices().indexOf(exeDevices.get(k));
            if (partition[k] < 0) {
                throw new EngineException(name + ": the compiled program runs on device " + exeDevices.get(k).id() + ", which is not in mesh " + mesh);
            }
        }
        List<List<PjrtBuffer>> byInput = new ArrayList<>();
        List<PjrtBuffer> uploaded = new ArrayList<>();
        Set<Integer> keep = new HashSet<>();
        try {
            for (int i = 0; i < c.inPaths().size(); i++) {
                String path = c.inPaths().get(i);
                Object v = inputs.get(path);
                PartitionSpec want = c.inSpecs().get(i);
                if (v instanceof DeviceArray d) {
                    checkLive(path, d);
                    int rank = d.type().shape().rank();
                    if (!d.isSharded() || !d.mesh().equals(mesh) || !d.spec().canonical(rank, mesh).equals(want.canonical(rank, mesh))) {
                        throw new EngineException(name + ": input '" + path + "' (" + d.type() + ") is on " + d.placement()
                                + " but " + name + " expects mesh " + mesh + " as " + want
                                + "; reshard it with DeviceArray.reshard(client, mesh, spec, path) or pass it as a host array");
                    }
                    byInput.add(d.shards());
                } else {
                    NdArray h = (NdArray) v;
                    List<PjrtBuffer> shards = ShardedTransfer.put(client, mesh, want, path, h.segment(), h.dtype().elementType(),
                            h.shape().longDims());
                    uploaded.addAll(shards);
                    byInput.add(shards);
                }
                if (!c.donatedArgs().contains(i)) {
                    keep.add(i);
                }
            }
            List<List<PjrtBuffer>> args = new ArrayList<>();
            for (int k = 0; k < partition.length; k++) {
                List<PjrtBuffer> row = new ArrayList<>();
                for (List<PjrtBuffer> shards : byInput) {
                    row.add(shards.get(partition[k]));
                }
                args.add(row);
            }
            List<List<PjrtBuffer>> outs;
            try {
                outs = c.exe().execute(args, keep);
            } catch (PjrtException e) {
                throw new EngineException(name + ": running the compiled program failed: " + e.getMessage(), e);
            }
            List<DeviceArray> r = new ArrayList<>();
            for (int j = 0; j < c.outPaths().size(); j++) {
                PjrtBuffer[] shards = new PjrtBuffer[n];
                for (int k = 0; k < partition.length; k++) {
                    shards[partition[k]] = outs.get(k).get(j);
                }
                r.add(DeviceArray.ofShards(c.outPaths().get(j), Arrays.asList(shards), c.outTypes().get(j), mesh, c.outSpecs().get(j)));
            }
            return Tree.of(c.outPaths(), r);
        } finally {
            for (PjrtBuffer b : uploaded) {
                if (b != null) { // null: a block on another process's device
                    b.close();
                }
            }
        }
    }

    /**
     * Per-device memory of this function compiled for inputs of {@code inputTypes} (compiling if
     * needed, running nothing): the bytes of each input on one device under its layout, and the
     * plugin's figures for temporaries (activations), outputs and peak — the answer to "will this
     * fit?" before a long job.
     */
    public MemoryReport memoryReport(Tree<ArrayType> inputTypes) {
        List<String> paths = inputTypes.paths().stream().sorted().toList();
        List<ArrayType> types = paths.stream().map(inputTypes::get).toList();
        Compiled c = specialize(paths, types);
        Map<String, Long> perInput = new LinkedHashMap<>();
        for (int i = 0; i < paths.size(); i++) {
            ArrayType t = types.get(i);
            long[] local = mesh == null ? t.shape().longDims() : c.inSpecs().get(i).localDims(paths.get(i), t.shape().longDims(), mesh);
            perInput.put(paths.get(i), Arrays.stream(local).reduce(1, (x, y) -> x * y) * t.dtype().elementType().byteSize());
        }
        PjrtLoadedExecutable.CompiledMemoryStats s;
        try {
            s = c.exe().compiledMemoryStats();
        } catch (PjrtException e) {
            throw new EngineException(name + ": the plugin does not report compiled memory statistics: " + e.getMessage(), e);
        }
        return new MemoryReport(name, mesh == null ? 1 : mesh.size(), perInput, s.arguments(), s.outputs(), s.aliased(), s.temporaries(),
                s.peak(), s.generatedCode());
    }

    private Compiled specialize(Tree<?> inputs) {
        // Sorted, so that trees with the same entries in another order share one program.
        List<String> paths = inputs.paths().stream().sorted().toList();
        List<ArrayType> types = new ArrayList<>();
        for (String p : paths) {
            Object v = inputs.get(p);
            ArrayType t = switch (v) {
                case NdArray a -> a.type();
                case DeviceArray d -> d.type();
                default -> throw new EngineException(name + ": input '" + p + "' is a " + v.getClass().getSimpleName()
                        + "; pass an NdArray (host) or a DeviceArray");
            };
            types.add(t);
        }
        return specialize(paths, types);
    }

    private Compiled specialize(List<String> paths, List<ArrayType> types) {
        checkSpec(paths, types);
        List<PartitionSpec> specs = List.of();
        if (mesh != null) {
            specs = new ArrayList<>();
            for (int i = 0; i < paths.size(); i++) {
                PartitionSpec s = specOf(inSpecs, paths.get(i), "input");
                // Before compiling: every split must divide its dimension (the error names tensor, axis and sizes).
                s.localDims(paths.get(i), types.get(i).shape().longDims(), mesh);
                specs.add(s);
            }
            specs = List.copyOf(specs);
        }
        Key key = new Key(paths, types, specs);
        Compiled c = cache.get(key);
        if (c == null) {
            synchronized (this) {
                c = cache.get(key);
                if (c == null) {
                    c = compile(paths, types, specs);
                    cache.put(key, c);
                }
            }
        }
        return c;
    }

    private PartitionSpec specOf(Function<String, PartitionSpec> f, String path, String what) {
        PartitionSpec s = f.apply(path);
        if (s == null) {
            throw new MeshException(name + ": no partition spec for " + what + " '" + path + "'; the spec function must return one for every path "
                    + "(PartitionSpec.REPLICATED to keep it whole)");
        }
        return s;
    }

    private void checkSpec(List<String> paths, List<ArrayType> types) {
        if (inputSpec == null) {
            return;
        }
        for (String p : inputSpec.paths()) {
            if (!paths.contains(p)) {
                throw new EngineException(name + ": input '" + p + "' is missing; expected " + inputSpec.get(p));
            }
        }
        for (int i = 0; i < paths.size(); i++) {
            String p = paths.get(i);
            if (!inputSpec.has(p)) {
                throw new EngineException(name + ": unexpected input '" + p + "'; expected inputs " + inputSpec.paths());
            }
            ArrayType want = inputSpec.get(p);
            if (!want.equals(types.get(i))) {
                String what = want.dtype() != types.get(i).dtype() ? "dtype " + types.get(i).dtype() + " but " + want.dtype() + " was expected"
                        : "shape " + types.get(i).shape() + " but " + want.shape() + " was expected";
                throw new EngineException(name + ": input '" + p + "' is " + types.get(i) + ": " + what + " (expected " + want + ")");
            }
        }
    }

    private Compiled compile(List<String> paths, List<ArrayType> types, List<PartitionSpec> inSp) {
        Tree<ArrayType> inTypes = Tree.of(paths, types);
        Program prog = mesh == null ? Program.trace(name, inTypes, fn) : Sharding.under(mesh, () -> Program.trace(name, inTypes, fn));
        List<String> outPaths = prog.outputTypes().paths();
        List<ArrayType> outTypes = prog.outputTypes().values();
        List<PartitionSpec> outSp = List.of();
        if (mesh != null) {
            var l = new ArrayList<PartitionSpec>();
            for (int j = 0; j < outPaths.size(); j++) {
                PartitionSpec s = specOf(outSpecs, outPaths.get(j), "output");
                s.localDims("output " + outPaths.get(j), outTypes.get(j).shape().longDims(), mesh);
                l.add(s);
            }
            outSp = List.copyOf(l);
        }
        Map<Integer, Integer> aliasing = new HashMap<>();
        Set<Integer> used = new HashSet<>();
        for (int i = 0; i < paths.size(); i++) {
            if (!isDonated(paths.get(i))) {
                continue;
            }
            int same = outPaths.indexOf(paths.get(i));
            int pick = same >= 0 && aliasable(types.get(i), inSp, i, outTypes.get(same), outSp, same) && !used.contains(same) ? same : -1;
            for (int k = 0; pick < 0 && k < outTypes.size(); k++) {
                if (!used.contains(k) && aliasable(types.get(i), inSp, i, outTypes.get(k), outSp, k)) {
                    pick = k;
                }
            }
            if (pick >= 0) {
                used.add(pick);
                aliasing.put(i, pick);
            }
        }
        Program.Annotations ann = mesh == null ? annotations : meshAnnotations(inTypes, inSp, outPaths, outSp);
        String text = prog.mlir(client.platformName().equals("cpu") ? new CpuAnnotations(ann) : ann, aliasing);
        dump(text, specializations.incrementAndGet());
        int parts = ann.numPartitions();
        CompileOptions opts;
        if (mesh != null) {
            opts = CompileOptions.builder().numPartitions(parts).spmd(true).shardy(true).devices(mesh.deviceIds()).build();
        } else {
            opts = parts == 1 ? CompileOptions.DEFAULT : CompileOptions.builder().numPartitions(parts).spmd(true).build();
        }
        CompileCache disk = diskCache != null ? diskCache : CompileCache.installed();
        PjrtLoadedExecutable exe = disk == null ? compileNow(text, opts)
                : disk.getOrCompile(client, name, text, opts, parameterTypes(types), () -> compileNow(text, opts));
        if (mesh != null) {
            checkOutputShards(exe, outPaths, outTypes, outSp);
        }
        return new Compiled(prog, text, exe, paths, types, Set.copyOf(aliasing.keySet()), outPaths, outTypes, inSp, outSp);
    }

    private PjrtLoadedExecutable compileNow(String text, CompileOptions opts) {
        compiles.incrementAndGet();
        TOTAL_COMPILES.incrementAndGet();
        try {
            return client.compile(text, opts);
        } catch (PjrtException e) {
            throw new EngineException(name + ": XLA rejected the program" + (dumpDir == null ? " (set COHX_DUMP_DIR to keep it)" : "")
                    + ": " + e.getMessage(), e);
        }
    }

    /** The argument types a loaded executable checks at each call (global shapes: under a mesh only ranks are compared). */
    private static List<TensorType> parameterTypes(List<ArrayType> types) {
        return types.stream().map(t -> new TensorType(t.dtype().elementType(), t.shape().longDims())).toList();
    }

    /** A donated input can take an output's buffer when type and (under a mesh) layout are the same. */
    private boolean aliasable(ArrayType in, List<PartitionSpec> inSp, int i, ArrayType out, List<PartitionSpec> outSp, int j) {
        if (!in.equals(out)) {
            return false;
        }
        if (mesh == null) {
            return true;
        }
        int rank = in.shape().rank();
        return inSp.get(i).canonical(rank, mesh).equals(outSp.get(j).canonical(rank, mesh));
    }

    private Program.Annotations meshAnnotations(Tree<ArrayType> inTypes, List<PartitionSpec> inSp, List<String> outPaths,
                                                List<PartitionSpec> outSp) {
        List<String> inPaths = inTypes.paths();
        return new Program.Annotations() {
            @Override
            public String argument(String path, ArrayType type) {
                return "sdy.sharding = " + inSp.get(inPaths.indexOf(path)).sdySharding(Sharding.MESH_NAME, type.shape().rank());
            }

            @Override
            public String result(String path, ArrayType type) {
                return "sdy.sharding = " + outSp.get(outPaths.indexOf(path)).sdySharding(Sharding.MESH_NAME, type.shape().rank());
            }

            @Override
            public int numPartitions() {
                return mesh.size();
            }

            @Override
            public String moduleHeader() {
                return mesh.sdyMesh(Sharding.MESH_NAME);
            }
        };
    }

    /** The partitioner must give each output the per-device shape its layout promises. */
    private void checkOutputShards(PjrtLoadedExecutable exe, List<String> outPaths, List<ArrayType> outTypes, List<PartitionSpec> outSp) {
        List<long[]> dims = exe.outputDims();
        for (int j = 0; j < outPaths.size() && j < dims.size(); j++) {
            long[] want = outSp.get(j).localDims(outPaths.get(j), outTypes.get(j).shape().longDims(), mesh);
            if (!Arrays.equals(want, dims.get(j))) {
                exe.close();
                throw new EngineException(name + ": XLA partitioned output '" + outPaths.get(j) + "' into shards of " + Arrays.toString(dims.get(j))
                        + " but its layout " + outSp.get(j) + " on mesh " + mesh + " needs " + Arrays.toString(want));
            }
        }
    }

    private boolean isDonated(String path) {
        for (String p : donated) {
            if (path.equals(p) || path.startsWith(p + ".")) {
                return true;
            }
        }
        return false;
    }

    private void dump(String text, int n) {
        if (dumpDir == null) {
            return;
        }
        String file = name.replaceAll("[^A-Za-z0-9_.-]", "_") + "-" + n + ".mlir";
        try {
            Files.createDirectories(dumpDir);
            Path tmp = Files.createTempFile(dumpDir, file, ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, dumpDir.resolve(file), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new EngineException("cannot write the program dump " + dumpDir.resolve(file) + " (COHX_DUMP_DIR): " + e.getMessage(), e);
        }
    }

    /** Frees every compiled executable. */
    @Override
    public void close() {
        cache.values().forEach(c -> c.exe().close());
        cache.clear();
    }

    /** The caller's annotations, plus what the CPU runtime needs (no mixed-precision dots). */
    private record CpuAnnotations(Program.Annotations inner) implements Program.Annotations {
        @Override
        public String argument(String path, ArrayType type) {
            return inner.argument(path, type);
        }

        @Override
        public String result(String path, ArrayType type) {
            return inner.result(path, type);
        }

        @Override
        public int numPartitions() {
            return inner.numPartitions();
        }

        @Override
        public String moduleHeader() {
            return inner.moduleHeader();
        }

        @Override
        public boolean upcastLowPrecisionDots() {
            return true;
        }
    }
}
