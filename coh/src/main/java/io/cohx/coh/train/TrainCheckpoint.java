package io.cohx.coh.train;

import io.cohx.engine.ArrayType;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.NdArray;
import io.cohx.engine.Shape;
import io.cohx.engine.Tree;
import io.cohx.models.checkpoint.AtomicFiles;
import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.checkpoint.CohxCheckpoint;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.SafetensorsReader;
import io.cohx.models.checkpoint.SafetensorsWriter;
import io.cohx.models.checkpoint.TensorInfo;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.tokenizer.BundledTokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
        try {
            Files.createDirectories(root);
            if (Files.exists(dir)) {
                deleteTree(dir); // re-saving the same step (e.g. after a resume): replace it
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + root + ": " + e.getMessage(), e);
        }
        Path tmp = AtomicFiles.beginFolder(dir);
        try {
            List<Path> files = write(tmp, CohxCheckpoint.PARAMS_BASE, params);
            if (optState != null) {
                write(tmp, "opt_state", optState);
            }
            var m = new LinkedHashMap<String, Object>();
            m.put("format", CohxCheckpoint.FORMAT);
            m.put("format_version", CohxCheckpoint.FORMAT_VERSION);
            m.put("model_type", config.modelType());
            m.put("step", step);
            m.put("config", config.toMap());
            m.put("params", Map.of("files", files.stream().map(p -> p.getFileName().toString()).toList(), "tensors", params.size()));
            m.put("train_state", optState != null);
            if (tokenizer != null) {
                tokenizer.writeTo(tmp);
                m.put("tokenizer", CohxCheckpoint.tokenizerEntry(tokenizer));
            }
            m.putAll(extra);
            AtomicFiles.writeString(tmp.resolve(CohxCheckpoint.MANIFEST), ModelConfigs.toJson(m));
            AtomicFiles.commitFolder(tmp, dir);
        } catch (RuntimeException e) {
            AtomicFiles.deleteQuietly(tmp);
            throw e;
        }
        Path latestTmp = AtomicFiles.tempSibling(root.resolve(LATEST));
        try {
            Files.writeString(latestTmp, name + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + latestTmp + ": " + e.getMessage(), e);
        }
        AtomicFiles.moveIntoPlace(latestTmp, root.resolve(LATEST));
        prune(root, name);
        return dir;
    }

    /** Writes {@code tree} (device arrays, gathered one at a time, or host arrays) as safetensors. */
    private static List<Path> write(Path dir, String base, Tree<?> tree) {
        var infos = new ArrayList<TensorInfo>();
        for (String p : tree.paths()) {
            ArrayType t = typeOf(tree.get(p));
            infos.add(new TensorInfo(p, t.dtype(), t.shape().longDims()));
        }
        return SafetensorsWriter.writeSharded(dir, base, infos, Map.of("format", "cohx"), CohxCheckpoint.DEFAULT_SHARD_BYTES,
                (info, arena) -> {
                    NdArray host = tree.get(info.name()) instanceof DeviceArray d ? d.toHost() : (NdArray) tree.get(info.name()); // one at a time
                    return new HostTensor(info.name(), info.dtype(), info.shape(), host.segment());
                }, io.cohx.models.checkpoint.WriteProgress.NONE);
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
