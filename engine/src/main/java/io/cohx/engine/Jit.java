package io.cohx.engine;

import io.cohx.pjrt.CompileOptions;
import io.cohx.pjrt.PjrtBuffer;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtDevice;
import io.cohx.pjrt.PjrtException;
import io.cohx.pjrt.PjrtLoadedExecutable;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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
    private final Map<Key, Compiled> cache = new ConcurrentHashMap<>();
    private final AtomicInteger compiles = new AtomicInteger();

    private record Key(List<String> paths, List<ArrayType> types) {}

    /** One compiled specialization. */
    record Compiled(Program program, String mlir, PjrtLoadedExecutable exe, List<String> inPaths, List<ArrayType> inTypes,
                    Set<Integer> donatedArgs, List<String> outPaths) {}

    private Jit(Builder b) {
        this.name = b.name;
        this.fn = b.fn;
        this.client = b.client;
        this.donated = List.copyOf(b.donated);
        this.annotations = b.annotations;
        this.inputSpec = b.inputSpec;
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

        public Builder dumpTo(Path dir) {
            dumpDir = dir;
            return this;
        }

        public Jit build(PjrtClient client) {
            this.client = client;
            return new Jit(this);
        }
    }

    /** Compiles performed by this function so far. */
    public int compileCount() {
        return compiles.get();
    }

    /** Compiles performed by every Jit in this process. */
    public static long totalCompiles() {
        return TOTAL_COMPILES.get();
    }

    /** The MLIR text compiled for these input types (compiling if needed). */
    public String mlir(Tree<?> inputs) {
        return specialize(inputs).mlir();
    }

    /** Runs the function; outputs stay on the device. */
    public Tree<DeviceArray> call(Tree<?> inputs) {
        Compiled c = specialize(inputs);
        PjrtDevice device = client.addressableDevices().getFirst();
        List<PjrtBuffer> args = new ArrayList<>();
        List<PjrtBuffer> uploaded = new ArrayList<>();
        Set<Integer> keep = new HashSet<>();
        try {
            for (int i = 0; i < c.inPaths().size(); i++) {
                Object v = inputs.get(c.inPaths().get(i));
                PjrtBuffer b;
                if (v instanceof DeviceArray d) {
                    if (d.isDeleted()) {
                        throw new EngineException(name + ": argument '" + c.inPaths().get(i) + "' (" + d.type()
                                + ") was donated to an earlier call or closed; pass the array that call returned");
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
                b.close();
            }
        }
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
        checkSpec(paths, types);
        Key key = new Key(paths, types);
        Compiled c = cache.get(key);
        if (c == null) {
            synchronized (this) {
                c = cache.get(key);
                if (c == null) {
                    c = compile(paths, types);
                    cache.put(key, c);
                }
            }
        }
        return c;
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

    private Compiled compile(List<String> paths, List<ArrayType> types) {
        Program prog = Program.trace(name, Tree.of(paths, types), fn);
        List<String> outPaths = prog.outputTypes().paths();
        List<ArrayType> outTypes = prog.outputTypes().values();
        Map<Integer, Integer> aliasing = new HashMap<>();
        Set<Integer> used = new HashSet<>();
        for (int i = 0; i < paths.size(); i++) {
            if (!isDonated(paths.get(i))) {
                continue;
            }
            int same = outPaths.indexOf(paths.get(i));
            int pick = same >= 0 && outTypes.get(same).equals(types.get(i)) && !used.contains(same) ? same : -1;
            for (int k = 0; pick < 0 && k < outTypes.size(); k++) {
                if (!used.contains(k) && outTypes.get(k).equals(types.get(i))) {
                    pick = k;
                }
            }
            if (pick >= 0) {
                used.add(pick);
                aliasing.put(i, pick);
            }
        }
        String text = prog.mlir(client.platformName().equals("cpu") ? new CpuAnnotations(annotations) : annotations, aliasing);
        int n = compiles.incrementAndGet();
        TOTAL_COMPILES.incrementAndGet();
        dump(text, n);
        PjrtLoadedExecutable exe;
        try {
            int parts = annotations.numPartitions();
            exe = client.compile(text, parts == 1 ? CompileOptions.DEFAULT
                    : CompileOptions.builder().numPartitions(parts).spmd(true).build());
        } catch (PjrtException e) {
            throw new EngineException(name + ": XLA rejected the program" + (dumpDir == null ? " (set COHX_DUMP_DIR to keep it)" : "")
                    + ": " + e.getMessage(), e);
        }
        return new Compiled(prog, text, exe, paths, types, Set.copyOf(aliasing.keySet()), outPaths);
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
