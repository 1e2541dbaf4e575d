package io.cohx.models.checkpoint;

import io.cohx.engine.DType;

import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.Unpickler;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads PyTorch {@code torch.save} files in the zip format (PyTorch 1.6 and later), as Meta's
 * {@code consolidated.NN.pth} LLaMA checkpoints are: {@code PREFIX/data.pkl} is a pickled state
 * dict whose tensors are {@code torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
 * ...)} with persistent ids {@code ('storage', torch.HalfStorage, key, device, numel)}; the
 * storage bytes are the zip entry {@code PREFIX/data/KEY} (stored, little-endian). Only the
 * pickle is parsed up front; each tensor's bytes are read on demand into the caller's arena.
 */
public final class PthReader implements TensorReader {

    /** A storage: zip key, element type and element count. */
    record StorageRef(String key, DType dtype, long numel) {}

    /** A tensor view of a storage. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {}

    /** Marks a storage class such as torch.HalfStorage, so the persistent id says its dtype. */
    private record StorageType(DType dtype) implements IObjectConstructor {
        @Override
        public Object construct(Object[] args) {
            throw new PickleException("torch storage classes are not constructed directly");
        }
    }

    static {
        for (DTypeNames d : DTypeNames.all()) {
            Unpickler.registerConstructor("torch", d.torchStorage(), new StorageType(d.dtype()));
        }
        Unpickler.registerConstructor("torch._utils", "_rebuild_tensor_v2", args -> {
            if (args.length < 4 || !(args[0] instanceof StorageRef s)) {
                throw new PickleException("unexpected arguments to _rebuild_tensor_v2");
            }
            return new TensorRef(s, toLong(args[1]), longs(args[2]), longs(args[3]));
        });
        Unpickler.registerConstructor("torch._utils", "_rebuild_parameter", args -> args[0]);
        // Keep the state dict's order (the default would be an unordered ClassDict).
        Unpickler.registerConstructor("collections", "OrderedDict", args -> new LinkedHashMap<Object, Object>());
    }

    private static long toLong(Object o) {
        if (o instanceof Number n) {
            return n.longValue();
        }
        throw new PickleException("expected an integer, got " + o);
    }

    private static long[] longs(Object o) {
        if (o instanceof Object[] a) {
            long[] out = new long[a.length];
            for (int i = 0; i < a.length; i++) {
                out[i] = toLong(a[i]);
            }
            return out;
        }
        throw new PickleException("expected a tuple of integers, got " + o);
    }

    private final Path file;
    private final ZipFile zip;
    private final String prefix;
    private final Map<String, TensorRef> refs = new LinkedHashMap<>();
    private final List<TensorInfo> infos = new ArrayList<>();

    private PthReader(Path file) {
        this.file = file;
        try {
            this.zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw new CheckpointException(file + " is not a readable PyTorch zip checkpoint (" + e.getMessage() + ")"
                    + diagnoseTruncation(file) + "; copy or download it again (or it was saved by PyTorch < 1.6)", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        ZipEntry pkl = zip.stream().filter(e -> e.getName().endsWith("data.pkl")
                && e.getName().indexOf('/') == e.getName().lastIndexOf('/')).findFirst().orElse(null);
        if (pkl == null) {
            close();
            throw new CheckpointException(file + " has no data.pkl entry: not a torch.save zip file");
        }
        this.prefix = pkl.getName().substring(0, pkl.getName().length() - "data.pkl".length());
        try {
            load(pkl);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * For a zip whose central directory is gone (a cut-off copy): walks the entries from the
     * front, parses data.pkl if it is there, and names the first tensor whose storage is missing
     * or incomplete. Returns "" when nothing more can be said.
     */
    private static String diagnoseTruncation(Path file) {
        Map<String, String> tensorOfStorage = new LinkedHashMap<>();
        String lastComplete = null;
        try (var zin = new java.util.zip.ZipInputStream(java.nio.file.Files.newInputStream(file))) {
            ZipEntry e;
            while ((e = zin.getNextEntry()) != null) {
                byte[] data = zin.readAllBytes();
                if (e.getName().endsWith("data.pkl")) {
                    Object root = new Unpickler() {
                        @Override
                        protected Object persistentLoad(Object pid) {
                            Object[] t = (Object[]) pid;
                            DType d = t[1] instanceof StorageType st ? st.dtype() : DType.U8;
                            return new StorageRef(String.valueOf(t[2]), d, toLong(t[4]));
                        }
                    }.loads(data);
                    if (root instanceof Map<?, ?> m) {
                        m.forEach((k, v) -> {
                            if (v instanceof TensorRef r) {
                                tensorOfStorage.putIfAbsent(r.storage().key(), String.valueOf(k));
                            }
                        });
                    }
                }
                int slash = e.getName().lastIndexOf("/data/");
                if (slash >= 0) {
                    tensorOfStorage.remove(e.getName().substring(slash + "/data/".length()));
                    lastComplete = e.getName();
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // reading stops at the cut; what was collected so far tells where
        }
        if (tensorOfStorage.isEmpty()) {
            return "";
        }
        var first = tensorOfStorage.entrySet().iterator().next();
        return ": the data of tensor '" + first.getValue() + "' (storage " + first.getKey() + ") is cut off"
                + (lastComplete == null ? "" : " after " + lastComplete) + ", the file is truncated";
    }

    /** Opens {@code file} and parses its pickle. */
    public static PthReader open(Path file) {
        return new PthReader(file);
    }

    private void load(ZipEntry pkl) {
        Object root;
        try (InputStream in = zip.getInputStream(pkl)) {
            Unpickler u = new Unpickler() {
                @Override
                protected Object persistentLoad(Object pid) {
                    if (pid instanceof Object[] t && t.length >= 5 && "storage".equals(t[0])
                            && t[1] instanceof StorageType st) {
                        return new StorageRef(String.valueOf(t[2]), st.dtype(), toLong(t[4]));
                    }
                    throw new PickleException("unsupported persistent id " + Arrays.deepToString(
                            pid instanceof Object[] a ? a : new Object[] {pid}));
                }
            };
            root = u.load(in);
        } catch (PickleException | ClassCastException e) {
            throw new CheckpointException(file + ": cannot parse " + pkl.getName() + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read " + pkl.getName() + " (truncated?): " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> m)) {
            throw new CheckpointException(file + " does not hold a state dict (a map of name to tensor)");
        }
        var order = new ArrayList<Map.Entry<String, TensorRef>>();
        for (var e : m.entrySet()) {
            if (e.getValue() instanceof TensorRef t) {
                order.add(Map.entry(String.valueOf(e.getKey()), t));
            }
        }
        // File order: by storage key (numbers in the order torch wrote them), then offset.
        order.sort(Comparator.comparingLong((Map.Entry<String, TensorRef> e) -> storageOrder(e.getValue().storage().key()))
                .thenComparingLong(e -> e.getValue().offset()));
        for (var e : order) {
            refs.put(e.getKey(), e.getValue());
            infos.add(new TensorInfo(e.getKey(), e.getValue().storage().dtype(), e.getValue().size()));
        }
    }

    private static long storageOrder(String key) {
        try {
            return Long.parseLong(key);
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public List<TensorInfo> tensors() {
        return Collections.unmodifiableList(infos);
    }

    @Override
    public TensorInfo info(String name) {
        TensorRef r = refs.get(name);
        return r == null ? null : new TensorInfo(name, r.storage().dtype(), r.size());
    }

    @Override
    public HostTensor read(String name, Arena arena) {
        TensorRef r = refs.get(name);
        if (r == null) {
            throw new CheckpointException("tensor '" + name + "' is not in " + file);
        }
        DType dt = r.storage().dtype();
        int es = dt.byteSize();
        String entryName = prefix + "data/" + r.storage().key();
        ZipEntry entry = zip.getEntry(entryName);
        if (entry == null) {
            throw new CheckpointException(file + ": the data of tensor '" + name + "' (" + entryName + ") is missing");
        }
        long numel = HostTensor.numel(r.size());
        long span = 1; // elements of the storage the view reaches
        for (int i = 0; i < r.size().length; i++) {
            span += (r.size()[i] - 1) * r.stride()[i];
        }
        long needBytes = numel == 0 ? 0 : (r.offset() + span) * es;
        if (entry.getSize() >= 0 && entry.getSize() < needBytes) {
            throw new CheckpointException(file + ": tensor '" + name + "' needs " + needBytes + " bytes of "
                    + entryName + " but it has " + entry.getSize() + " (truncated or corrupt file)");
        }
        HostTensor out = HostTensor.allocate(name, dt, r.size(), arena);
        try (InputStream in = zip.getInputStream(entry)) {
            if (isContiguous(r)) {
                in.skipNBytes(r.offset() * es);
                readFully(in, out.data(), name);
            } else {
                // A strided view (rare in saved weights): read the reachable storage, then gather.
                MemorySegment storage = arena.allocate(needBytes, 64);
                readFully(in, storage, name);
                gather(storage, r, out.data(), es);
            }
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read the data of tensor '" + name + "' (" + entryName
                    + "): " + e.getMessage() + "; the file may be truncated or corrupt", e);
        }
        return out;
    }

    private static boolean isContiguous(TensorRef r) {
        long expect = 1;
        for (int i = r.size().length - 1; i >= 0; i--) {
            if (r.size()[i] != 1 && r.stride()[i] != expect) {
                return false;
            }
            expect *= r.size()[i];
        }
        return true;
    }

    private void readFully(InputStream in, MemorySegment dst, String name) throws IOException {
        byte[] buf = new byte[1 << 20];
        long at = 0;
        while (at < dst.byteSize()) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, dst.byteSize() - at));
            if (n < 0) {
                throw new CheckpointException(file + ": the data of tensor '" + name + "' ends after " + at + " of "
                        + dst.byteSize() + " bytes (truncated or corrupt file)");
            }
            MemorySegment.copy(buf, 0, dst, ValueLayout.JAVA_BYTE, at, n);
            at += n;
        }
    }

    private static void gather(MemorySegment storage, TensorRef r, MemorySegment out, int es) {
        long[] size = r.size();
        long[] idx = new long[size.length];
        long n = HostTensor.numel(size);
        for (long k = 0; k < n; k++) {
            long src = r.offset();
            for (int i = 0; i < size.length; i++) {
                src += idx[i] * r.stride()[i];
            }
            MemorySegment.copy(storage, src * es, out, k * es, es);
            for (int i = size.length - 1; i >= 0; i--) {
                if (++idx[i] < size[i]) {
                    break;
                }
                idx[i] = 0;
            }
        }
    }

    @Override
    public Path source() {
        return file;
    }

    @Override
    public void close() {
        try {
            if (zip != null) {
                zip.close();
            }
        } catch (IOException ignored) {
            // read-only file; nothing to lose
        }
    }
}
