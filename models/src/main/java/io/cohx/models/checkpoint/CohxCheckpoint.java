package io.cohx.models.checkpoint;

import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.tokenizer.BundledTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cohx checkpoint folder (docs/CHECKPOINTS.md): parameters in safetensors under their
 * canonical names ({@code params.safetensors}, or numbered shards plus
 * {@code params.safetensors.index.json}) and a {@code manifest.json} with the format version,
 * model type, config and step; a model imported from GGUF also keeps its tokenizer
 * ({@code vocabulary.json}, {@code chat_template.jinja}; {@link BundledTokenizer}). The folder
 * is written under a temporary name, synced and renamed, so a crash never leaves a half
 * checkpoint under the final name.
 */
public final class CohxCheckpoint {
    public static final String FORMAT = "cohx-checkpoint";
    public static final int FORMAT_VERSION = 1;
    public static final String MANIFEST = "manifest.json";
    public static final String PARAMS_BASE = "params";
    /** Shard size of the params files unless asked otherwise. */
    public static final long DEFAULT_SHARD_BYTES = 4L << 30;

    private CohxCheckpoint() {}

    /** What the manifest says. {@code extra} holds keys other writers (the trainer) added. */
    public record Manifest(int formatVersion, ModelConfig config, long step, Map<String, Object> extra) {}

    /** An opened checkpoint: its manifest and a reader of its parameters (close it). */
    public record Opened(Manifest manifest, SafetensorsReader params) implements AutoCloseable {
        @Override
        public void close() {
            params.close();
        }
    }

    /**
     * Writes folder {@code dir}: {@code tensors} (canonical names, in order) from {@code source},
     * then the manifest; {@code extra} entries are added to the manifest (e.g. "source").
     */
    public static void write(Path dir, ModelConfig config, long step, List<TensorInfo> tensors, TensorSource source,
                             long maxShardBytes, Map<String, Object> extra, WriteProgress progress) {
        write(dir, config, step, tensors, source, maxShardBytes, extra, null, progress);
    }

    /**
     * As {@link #write(Path, ModelConfig, long, List, TensorSource, long, Map, WriteProgress)}, also
     * keeping {@code tokenizer} (vocabulary and chat template; null for none) in the folder.
     */
    public static void write(Path dir, ModelConfig config, long step, List<TensorInfo> tensors, TensorSource source,
                             long maxShardBytes, Map<String, Object> extra, BundledTokenizer tokenizer, WriteProgress progress) {
        Path tmp = AtomicFiles.beginFolder(dir);
        try {
            List<Path> files = SafetensorsWriter.writeSharded(tmp, PARAMS_BASE, tensors, Map.of("format", "cohx"),
                    maxShardBytes, source, progress);
            var m = new LinkedHashMap<String, Object>();
            m.put("format", FORMAT);
            m.put("format_version", FORMAT_VERSION);
            m.put("model_type", config.modelType());
            m.put("step", step);
            m.put("config", config.toMap());
            var params = new LinkedHashMap<String, Object>();
            params.put("files", files.stream().map(p -> p.getFileName().toString()).toList());
            params.put("tensors", tensors.size());
            params.put("bytes", tensors.stream().mapToLong(TensorInfo::byteSize).sum());
            params.put("dtypes", tensors.stream().map(t -> DTypeNames.of(t.dtype()).numpy()).distinct().toList());
            m.put("params", params);
            if (tokenizer != null) {
                tokenizer.writeTo(tmp);
                m.put("tokenizer", tokenizerEntry(tokenizer));
            }
            if (extra != null) {
                extra.forEach(m::putIfAbsent);
            }
            AtomicFiles.writeString(tmp.resolve(MANIFEST), ModelConfigs.toJson(m));
            AtomicFiles.commitFolder(tmp, dir);
        } catch (RuntimeException e) {
            AtomicFiles.deleteQuietly(tmp);
            throw e;
        }
    }

    /** The manifest's note of a kept tokenizer: its files and what it is (the files hold the data). */
    public static Map<String, Object> tokenizerEntry(BundledTokenizer t) {
        var e = new LinkedHashMap<String, Object>();
        e.put("vocabulary", BundledTokenizer.VOCABULARY_FILE);
        e.put("kind", t.vocabulary().kind());
        e.put("pre_tokenizer", t.vocabulary().preTokenizer());
        e.put("tokens", t.vocabulary().tokens().size());
        e.put("chat_template", t.chatTemplate() != null ? BundledTokenizer.CHAT_TEMPLATE_FILE : null);
        return e;
    }

    /** The tokenizer kept in checkpoint folder {@code dir} (from a GGUF import), or null. */
    public static BundledTokenizer tokenizer(Path dir) {
        return BundledTokenizer.readFrom(dir);
    }

    /** Reads the manifest of folder {@code dir}. */
    public static Manifest readManifest(Path dir) {
        Path mf = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(mf)) {
            throw new CheckpointException(dir + " is not a cohx checkpoint: it has no " + MANIFEST);
        }
        Map<String, Object> m = ModelConfigs.readMap(mf);
        if (!FORMAT.equals(m.get("format"))) {
            throw new CheckpointException(mf + ": \"format\" is " + m.get("format") + ", expected \"" + FORMAT + "\"");
        }
        if (!(m.get("format_version") instanceof Number v) || v.intValue() < 1 || v.intValue() > FORMAT_VERSION) {
            throw new CheckpointException(mf + ": format_version " + m.get("format_version")
                    + " is not one this cohx reads (1.." + FORMAT_VERSION + "); use a newer cohx");
        }
        if (!(m.get("config") instanceof Map<?, ?> cfg)) {
            throw new CheckpointException(mf + " has no \"config\" object");
        }
        @SuppressWarnings("unchecked")
        ModelConfig config = ModelConfigs.fromMap((Map<String, ?>) cfg, mf + " (config)");
        long step = m.get("step") instanceof Number s ? s.longValue() : 0;
        var extra = new LinkedHashMap<String, Object>(m);
        List.of("format", "format_version", "model_type", "step", "config").forEach(extra::remove);
        return new Manifest(((Number) m.get("format_version")).intValue(), config, step, extra);
    }

    /** Opens folder {@code dir}: manifest plus memory-mapped parameters. */
    public static Opened open(Path dir) {
        Manifest man = readManifest(dir);
        Path idx = dir.resolve(PARAMS_BASE + ".safetensors.index.json");
        Path single = dir.resolve(PARAMS_BASE + ".safetensors");
        SafetensorsReader r = SafetensorsReader.open(Files.isRegularFile(idx) ? idx : single);
        return new Opened(man, r);
    }
}
