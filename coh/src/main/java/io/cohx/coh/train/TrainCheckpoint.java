package io.cohx.coh.train;

import io.cohx.engine.ArrayType;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.NdArray;
import io.cohx.engine.Shape;
import io.cohx.engine.Tree;
import io.cohx.engine.dist.Coordination;
import io.cohx.engine.dist.HostGather;
import io.cohx.models.checkpoint.AtomicFiles;
import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.checkpoint.CohxCheckpoint;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.SafetensorsReader;
import io.cohx.models.checkpoint.SafetensorsWriter;
import io.cohx.models.checkpoint.TensorInfo;
import io.cohx.models.checkpoint.TensorSource;
import io.cohx.models.checkpoint.WriteProgress;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.tokenizer.BundledTokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Training checkpoints: a cohx checkpoint folder (params in safetensors + manifest.json, readable
 * by {@link CohxCheckpoint} and {@code cohx convert}) plus, for the full train state,
 * {@code opt_state.safetensors} and the trainer's extra manifest keys (data positions, resolved
 * config). Tensors stream from the device one at a time. Folders are written under a temporary
 * name and renamed; {@code checkpoints/LATEST} (replaced atomically) names the newest, so a crash
 * at any moment leaves the previous checkpoint loadable. Rolling {@code step_N} folders are pruned
 * to the newest; {@code milestone_N} folders are kept.
 */
public final class TrainCheckpoint {
    public static final String OPT_FILE = "opt_state.safetensors";
    public static final String LATEST = "LATEST";
    /** Checkpoint folders: rolling {@code step_N}, kept {@code milestone_N}. */
    private static final Pattern FOLDER = Pattern.compile("(?:step|milestone)_(\\d+)");
    /** Temporary names of a save in progress ({@link AtomicFiles#tempSibling}). */
    private static final Pattern LEFTOVER = Pattern.compile("\\.(?:step_\\d+|milestone_\\d+|" + LATEST + ")\\.tmp-[0-9a-f]+");

    private TrainCheckpoint() {}

    /** A loaded train state. {@code optState} is empty for a params-only checkpoint. */
    public record Loaded(Path dir, ModelConfig config, long step, Tree<NdArray> params, Tree<NdArray> optState,
                         Map<String, Object> extra) {}

    /**
     * Saves {@code params} (and {@code optState} unless null) as {@code checkpoints/<name>} under
     * {@code outputDir}, points LATEST at it, and removes older rolling folders.
     */
    public static Path save(Path outputDir, String name, ModelConfig config, long step, Tree<?> params,
                            Tree<?> optState, Map<String, Object> extra) {
        return save(outputDir, name, config, step, params, optState, extra, null);
    }

    /** As {@link #save(Path, String, ModelConfig, long, Tree, Tree, Map)}, keeping {@code tokenizer} (may be null) in the folder. */
    public static Path save(Path outputDir, String name, ModelConfig config, long step, Tree<?> params,
                            Tree<?> optState, Map<String, Object> extra, BundledTokenizer tokenizer) {
        Path root = outputDir.resolve("checkpoints");
        Path dir = root.resolve(name);
        clear(root, dir);
        Path tmp = AtomicFiles.beginFolder(dir);
        try {
            write(tmp, CohxCheckpoint.PARAMS_BASE, params);
            if (optState != null) {
                write(tmp, "opt_state", optState);
            }
            finishFolder(tmp, dir, config, step, params, optState, extra, tokenizer);
        } catch (RuntimeException e) {
            AtomicFiles.deleteQuietly(tmp);
            throw e;
        }
        publish(root, name);
        return dir;
    }

    /**
     * Saves as one process of a multi-process run: every process writes its share of the tensors
     * ({@link #shareOf}: whole tensors, split by bytes, so the folder is the usual sharded
     * safetensors set that any reader, and a run on any number of processes, loads); after a
     * barrier process 0 writes the indexes and the manifest and renames the folder into place;
     * LATEST moves only then, and a last barrier keeps every process until it has. A process that
     * dies midway fails the others' barrier (naming it) and LATEST keeps naming the previous
     * checkpoint. {@code outputDir} must be a file system every process sees (NFS, a bucket
     * mount). Each process passes the same trees. With {@code gather} null every process reads
     * its tensors on its own (host arrays, or device arrays whose blocks are all local); with a
     * {@link HostGather} (arrays spanning processes) every process takes part in gathering every
     * tensor, in order, and the owner keeps the bytes, so the shares are written one after another.
     */
    public static Path save(Path outputDir, String name, ModelConfig config, long step, Tree<?> params, Tree<?> optState,
                            Map<String, Object> extra, BundledTokenizer tokenizer, Coordination peers, HostGather gather) {
        if (peers == null) {
            return save(outputDir, name, config, step, params, optState, extra, tokenizer);
        }
        int me = peers.group().index(), count = peers.group().count();
        Path root = outputDir.resolve("checkpoints");
        Path dir = root.resolve(name);
        Path tmp = root.resolve("." + name + ".tmp-processes"); // one name every process knows
        if (me == 0) {
            clear(root, dir);
            deleteTreeIfExists(tmp); // left by a run that died while saving
            try {
                Files.createDirectories(tmp);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + tmp + ": " + e.getMessage(), e);
            }
        }
        peers.sync("checkpoint " + name + ": folder ready", BARRIER_TIMEOUT);
        writeShare(tmp, CohxCheckpoint.PARAMS_BASE, params, me, count, false, gather);
        if (optState != null) {
            writeShare(tmp, "opt_state", optState, me, count, false, gather);
        }
        peers.sync("checkpoint " + name + ": every share written", BARRIER_TIMEOUT);
        if (me == 0) {
            writeShare(tmp, CohxCheckpoint.PARAMS_BASE, params, me, count, true, null);
            if (optState != null) {
                writeShare(tmp, "opt_state", optState, me, count, true, null);
            }
            finishFolder(tmp, dir, config, step, params, optState, extra, tokenizer);
            publish(root, name);
        }
        peers.sync("checkpoint " + name + ": LATEST moved", BARRIER_TIMEOUT);
        return dir;
    }

    /** How long a process waits for the others at a checkpoint step (they may be writing gigabytes). */
    static final Duration BARRIER_TIMEOUT = Duration.ofHours(1);

    /**
     * Which process writes each tensor: tensors in order, cut into {@code count} runs of about
     * equal bytes (a run may be empty when there are few tensors). The same on every process.
     */
    static int[] shareOf(List<TensorInfo> tensors, int count) {
        long total = tensors.stream().mapToLong(TensorInfo::byteSize).sum();
        int[] owner = new int[tensors.size()];
        long before = 0;
        for (int i = 0; i < tensors.size(); i++) {
            long mid = before + tensors.get(i).byteSize() / 2; // a tensor goes where its middle byte falls
            owner[i] = total == 0 ? 0 : (int) Math.min(count - 1, mid * count / total);
            before += tensors.get(i).byteSize();
        }
        return owner;
    }

    /**
     * This process's file of {@code tree} ({@code BASE-0000k-of-0000n.safetensors}, numbered over
     * the processes that own tensors; {@code BASE.safetensors} when one owns them all), or, with
     * {@code index}, the index of all of them (process 0, after every share is on disk).
     */
    private static void writeShare(Path dir, String base, Tree<?> tree, int me, int count, boolean index, HostGather gather) {
        List<TensorInfo> infos = infos(tree);
        int[] owner = shareOf(infos, count);
        int[] fileNo = new int[count];
        int files = 0;
        for (int p = 0; p < count; p++) {
            final int q = p;
            boolean any = Arrays.stream(owner).anyMatch(o -> o == q);
            fileNo[p] = any ? ++files : 0;
        }
        final int n = files;
        IntFunction<String> fileName = p -> n == 1 ? base + ".safetensors"
                : String.format("%s-%05d-of-%05d.safetensors", base, fileNo[p], n);
        if (index) {
            if (n > 1) {
                var weightMap = new LinkedHashMap<String, Object>();
                long total = 0;
                for (int i = 0; i < infos.size(); i++) {
                    weightMap.put(infos.get(i).name(), fileName.apply(owner[i]));
                    total += infos.get(i).byteSize();
                }
                AtomicFiles.writeString(dir.resolve(base + ".safetensors.index.json"),
                        ModelConfigs.toJson(Map.of("metadata", Map.of("total_size", total), "weight_map", weightMap)));
            }
            return;
        }
        // Shares are runs of consecutive tensors: with a gather, everyone walks them in order.
        for (int q = 0; q < count; q++) {
            if (q != me && gather == null) {
                continue;
            }
            var share = new ArrayList<TensorInfo>();
            for (int i = 0; i < infos.size(); i++) {
                if (owner[i] == q) {
                    share.add(infos.get(i));
                }
            }
            if (share.isEmpty()) {
                continue;
            }
            if (q == me) {
                TensorSource source = gather == null ? source(tree) : (info, arena) -> {
                    Object v = tree.get(info.name());
                    NdArray host = v instanceof DeviceArray d ? gather.toHost(info.name(), d) : (NdArray) v;
                    return new HostTensor(info.name(), info.dtype(), info.shape(), host.segment());
                };
                SafetensorsWriter.write(dir.resolve(fileName.apply(me)), share, Map.of("format", "cohx"), source,
                        WriteProgress.NONE);
            } else {
                for (TensorInfo t : share) { // take part in the collective; the owner keeps the bytes
                    if (tree.get(t.name()) instanceof DeviceArray d) {
                        gather.toHost(t.name(), d);
                    }
                }
            }
        }
    }

    private static void clear(Path root, Path dir) {
        try {
            Files.createDirectories(root);
            if (Files.exists(dir)) {
                deleteTree(dir); // re-saving the same step (e.g. after a resume): replace it
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + root + ": " + e.getMessage(), e);
        }
    }

    /** The manifest (and tokenizer) into the filled temporary folder, then the folder into place. */
    private static void finishFolder(Path tmp, Path dir, ModelConfig config, long step, Tree<?> params, Tree<?> optState,
                                     Map<String, Object> extra, BundledTokenizer tokenizer) {
        var m = new LinkedHashMap<String, Object>();
        m.put("format", CohxCheckpoint.FORMAT);
        m.put("format_version", CohxCheckpoint.FORMAT_VERSION);
        m.put("model_type", config.modelType());
        m.put("step", step);
        m.put("config", config.toMap());
        m.put("params", Map.of("files", paramFiles(tmp), "tensors", params.size()));
        m.put("train_state", optState != null);
        if (tokenizer != null) {
            tokenizer.writeTo(tmp);
            m.put("tokenizer", CohxCheckpoint.tokenizerEntry(tokenizer));
        }
        m.putAll(extra);
        AtomicFiles.writeString(tmp.resolve(CohxCheckpoint.MANIFEST), ModelConfigs.toJson(m));
        AtomicFiles.commitFolder(tmp, dir);
    }

    /** The params files in a folder, shards in order and the index last (as the writer lists them). */
    private static List<String> paramFiles(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            var names = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(CohxCheckpoint.PARAMS_BASE + "")
                    && (n.endsWith(".safetensors") || n.endsWith(".safetensors.index.json"))).sorted().toList();
            var out = new ArrayList<>(names.stream().filter(n -> n.endsWith(".safetensors")).toList());
            out.addAll(names.stream().filter(n -> n.endsWith(".index.json")).toList());
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Points LATEST at {@code name} (atomically) and removes older rolling folders. */
    private static void publish(Path root, String name) {
        Path latestTmp = AtomicFiles.tempSibling(root.resolve(LATEST));
        try {
            Files.writeString(latestTmp, name + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + latestTmp + ": " + e.getMessage(), e);
        }
        AtomicFiles.moveIntoPlace(latestTmp, root.resolve(LATEST));
        prune(root, name);
    }

    /** Writes {@code tree} (device arrays, gathered one at a time, or host arrays) as safetensors. */
    private static List<Path> write(Path dir, String base, Tree<?> tree) {
        return SafetensorsWriter.writeSharded(dir, base, infos(tree), Map.of("format", "cohx"), CohxCheckpoint.DEFAULT_SHARD_BYTES,
                source(tree), WriteProgress.NONE);
    }

    private static List<TensorInfo> infos(Tree<?> tree) {
        var infos = new ArrayList<TensorInfo>();
        for (String p : tree.paths()) {
            ArrayType t = typeOf(tree.get(p));
            infos.add(new TensorInfo(p, t.dtype(), t.shape().longDims()));
        }
        return infos;
    }

    private static TensorSource source(Tree<?> tree) {
        return (info, arena) -> {
            NdArray host = tree.get(info.name()) instanceof DeviceArray d ? d.toHost() : (NdArray) tree.get(info.name()); // one at a time
            return new HostTensor(info.name(), info.dtype(), info.shape(), host.segment());
        };
    }

    private static ArrayType typeOf(Object v) {
        return v instanceof DeviceArray d ? d.type() : ((NdArray) v).type();
    }

    /**
     * The newest complete checkpoint, or null when there is none yet: the folder LATEST names, or
     * a newer {@code step_N} / {@code milestone_N} folder that holds its manifest (a save killed
     * between the folder's rename and LATEST's update left it complete but not yet named).
     */
    public static Path latest(Path outputDir) {
        Path root = outputDir.resolve("checkpoints");
        Path latest = root.resolve(LATEST);
        Path named = null;
        if (Files.isRegularFile(latest)) {
            try {
                named = root.resolve(Files.readString(latest).strip());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + latest + ": " + e.getMessage(), e);
            }
            if (!Files.isDirectory(named)) {
                throw new CheckpointException(latest + " names " + named.getFileName() + ", which does not exist; remove "
                        + latest + " to start over, or point --load-checkpoint at a checkpoint folder");
            }
        }
        Path newest = named;
        for (Path dir : completeFolders(root)) {
            if (newest == null || stepOf(dir) > stepOf(newest)) {
                newest = dir;
            }
        }
        return newest;
    }

    /** The {@code step_N} and {@code milestone_N} folders of {@code root} whose manifest is in place (renamed in whole). */
    private static List<Path> completeFolders(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> stepOf(p) >= 0 && Files.isRegularFile(p.resolve(CohxCheckpoint.MANIFEST))).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
    }

    /** N of a {@code step_N} or {@code milestone_N} folder; -1 for any other name. */
    private static long stepOf(Path dir) {
        var m = FOLDER.matcher(dir.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /**
     * Removes what saves killed part way left in {@code outputDir/checkpoints}: temporary
     * checkpoint folders ({@code .step_N.tmp-*}, as large as a checkpoint) and temporary LATEST
     * files. Call at the start of a run, before anything saves; returns what was removed.
     */
    public static List<Path> removeLeftovers(Path outputDir) {
        Path root = outputDir.resolve("checkpoints");
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        var removed = new ArrayList<Path>();
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : s.toList()) {
                if (LEFTOVER.matcher(p.getFileName().toString()).matches()) {
                    deleteTree(p);
                    removed.add(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
        return removed;
    }

    /** Loads a checkpoint folder; {@code withOptimizer} also reads opt_state (an error if it has none). */
    public static Loaded load(Path dir, boolean withOptimizer) {
        CohxCheckpoint.Manifest man = CohxCheckpoint.readManifest(dir);
        Tree<NdArray> params;
        try (CohxCheckpoint.Opened opened = CohxCheckpoint.open(dir)) {
            params = read(opened.params());
        }
        Tree<NdArray> opt = Tree.empty();
        if (withOptimizer) {
            Path f = dir.resolve(OPT_FILE);
            if (Files.isRegularFile(dir.resolve(OPT_FILE + ".index.json"))) {
                f = dir.resolve(OPT_FILE + ".index.json");
            }
            if (!Files.isRegularFile(f)) {
                throw new CheckpointException(dir + " holds parameters only (no " + OPT_FILE + "); load it with params::"
                        + dir + " to start a new optimizer");
            }
            try (SafetensorsReader r = SafetensorsReader.open(f)) {
                opt = read(r);
            }
        }
        return new Loaded(dir, man.config(), man.step(), params, opt, man.extra());
    }

    private static Tree<NdArray> read(SafetensorsReader r) {
        var paths = new ArrayList<String>();
        var values = new ArrayList<NdArray>();
        for (TensorInfo info : r.tensors()) {
            HostTensor t = r.read(info.name(), null);
            NdArray a = NdArray.zeros(new ArrayType(t.dtype(), Shape.of(t.shape())));
            MemorySegment.copy(t.data(), 0, a.segment(), 0, t.byteSize());
            paths.add(info.name());
            values.add(a);
        }
        return Tree.of(paths, values);
    }

    private static void prune(Path root, String keep) {
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith("step_") && !n.equals(keep) && Files.isDirectory(p)) {
                    deleteTree(p);
                }
            }
        } catch (IOException e) {
            // Old rolling checkpoints are only disk space; the new one is already in place.
        }
    }

    static void deleteTreeIfExists(Path p) {
        if (Files.exists(p)) {
            deleteTree(p);
        }
    }

    static void deleteTree(Path p) {
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + p + ": " + e.getMessage(), e);
        }
    }
}
