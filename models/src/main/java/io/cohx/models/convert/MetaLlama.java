package io.cohx.models.convert;

import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.checkpoint.CohxCheckpoint;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.PthReader;
import io.cohx.models.checkpoint.TensorInfo;
import io.cohx.models.checkpoint.TensorOps;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.params.ParamSpec;
import io.cohx.models.params.ParamTree;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Imports Meta's original LLaMA release: {@code params.json} plus one {@code consolidated.NN.pth}
 * per model-parallel rank. Column-parallel weights (wq, wk, wv, w1, w3, output) were split on
 * their first dimension, row-parallel ones (wo, w2) and the embedding on their second; norms are
 * replicated. Meta's rotary layout is the reference flax model's, so weights are only merged
 * and transposed to {@code [in, out]} kernels, never permuted.
 */
public final class MetaLlama {
    private MetaLlama() {}

    /** One parameter: Meta's name, the dimension its shards are joined on (-1: replicated), and whether it is transposed. */
    record MetaParam(String path, String metaName, int concatDim, boolean transpose) {}

    static List<MetaParam> mapping(LlamaConfig c) {
        var l = new ArrayList<MetaParam>();
        for (ParamSpec p : ParamTree.of(c).params()) {
            l.add(of(p.path()));
        }
        return l;
    }

    private static MetaParam of(String path) {
        switch (path) {
            case "transformer.wte.embedding" -> {
                return new MetaParam(path, "tok_embeddings.weight", 1, false);
            }
            case "transformer.ln_f.kernel" -> {
                return new MetaParam(path, "norm.weight", -1, false);
            }
            case "lm_head.kernel" -> {
                return new MetaParam(path, "output.weight", 0, true);
            }
            default -> {
                String rest = path.substring("transformer.h.".length());
                int dot = rest.indexOf('.');
                String layer = rest.substring(0, dot);
                String leaf = rest.substring(dot + 1);
                String b = "layers." + layer + ".";
                return switch (leaf) {
                    case "attention.wq.kernel", "attention.wk.kernel", "attention.wv.kernel" ->
                            new MetaParam(path, b + leaf.replace(".kernel", ".weight"), 0, true);
                    case "attention.wo.kernel" -> new MetaParam(path, b + "attention.wo.weight", 1, true);
                    case "feed_forward.w1.kernel", "feed_forward.w3.kernel" ->
                            new MetaParam(path, b + leaf.replace(".kernel", ".weight"), 0, true);
                    case "feed_forward.w2.kernel" -> new MetaParam(path, b + "feed_forward.w2.weight", 1, true);
                    case "attention_norm.kernel" -> new MetaParam(path, b + "attention_norm.weight", -1, false);
                    case "ffn_norm.kernel" -> new MetaParam(path, b + "ffn_norm.weight", -1, false);
                    default -> throw new IllegalStateException(path);
                };
            }
        }
    }

    /** The shard files of {@code dir}, in rank order. */
    static List<Path> shards(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> l = s.filter(p -> p.getFileName().toString().matches("consolidated\\.\\d+\\.pth")).sorted().toList();
            if (l.isEmpty()) {
                throw new CheckpointException(dir + " has no consolidated.NN.pth files; pass the folder of Meta's release"
                        + " (e.g. 7B/ with params.json)");
            }
            return l;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The LLaMA config of a Meta folder: params.json for sizes, the shards' shapes for vocabulary and MLP width. */
    static LlamaConfig config(Path dir, List<PthReader> readers) {
        Path pj = dir.resolve("params.json");
        if (!Files.isRegularFile(pj)) {
            throw new CheckpointException(dir + " has no params.json");
        }
        Map<String, Object> p = ModelConfigs.readMap(pj);
        int n = readers.size();
        TensorInfo emb = require(readers.getFirst(), "tok_embeddings.weight");
        TensorInfo w1 = require(readers.getFirst(), "layers.0.feed_forward.w1.weight");
        var m = LlamaConfig.defaults().toMap();
        m.put("vocab_size", emb.shape()[0]);
        m.put("hidden_size", intOf(p, "dim", pj));
        m.put("intermediate_size", w1.shape()[0] * n);
        m.put("num_hidden_layers", intOf(p, "n_layers", pj));
        m.put("num_attention_heads", intOf(p, "n_heads", pj));
        m.put("rms_norm_eps", p.getOrDefault("norm_eps", 1e-6));
        // The released LLaMA tokenizer uses bos 1 / eos 2 (the reference config's 0/1 are placeholders).
        m.put("bos_token_id", 1);
        m.put("eos_token_id", 2);
        if (p.get("n_kv_heads") != null && !p.get("n_kv_heads").equals(p.get("n_heads"))) {
            m.put("num_key_value_heads", intOf(p, "n_kv_heads", pj)); // grouped-query attention (Llama 2 70B, Llama 3)
        }
        if (p.get("rope_theta") instanceof Number theta) {
            m.put("rope_theta", theta.doubleValue());
        }
        if (Boolean.TRUE.equals(p.get("use_scaled_rope"))) {
            throw new CheckpointException(pj + ": use_scaled_rope (Llama 3.1+ rope scaling) is not read from Meta's params.json,"
                    + " which does not state the scaling's constants; convert the Hugging Face release of the model instead"
                    + " (hf::DIR), whose config.json has them under rope_scaling");
        }
        return LlamaConfig.defaults().withUpdates(m, pj.toString());
    }

    private static int intOf(Map<String, Object> p, String key, Path file) {
        if (p.get(key) instanceof Number num) {
            return num.intValue();
        }
        throw new CheckpointException(file + ": missing or non-integer \"" + key + "\"");
    }

    private static TensorInfo require(PthReader r, String name) {
        TensorInfo t = r.info(name);
        if (t == null) {
            throw new CheckpointException(r.source() + " has no tensor '" + name + "': not a Meta LLaMA checkpoint");
        }
        return t;
    }

    static LlamaConfig convert(Path dir, Path out, Conversions.Options o) {
        List<Path> files = shards(dir);
        List<PthReader> readers = new ArrayList<>();
        try {
            for (Path f : files) {
                readers.add(PthReader.open(f));
            }
            LlamaConfig cfg = config(dir, readers);
            List<MetaParam> mapping = mapping(cfg);
            ParamTree tree = ParamTree.of(cfg);
            List<String> expected = mapping.stream().map(MetaParam::metaName).toList();
            List<TensorInfo> infos = new ArrayList<>();
            for (PthReader r : readers) {
                Conversions.checkNames(r.tensors().stream().map(TensorInfo::name).toList(), expected,
                        n -> n.equals("rope.freqs"), r.source());
            }
            for (MetaParam mp : mapping) {
                long[] merged = mergedShape(readers, mp);
                long[] want = tree.get(mp.path()).shape();
                long[] metaWant = mp.transpose() ? new long[] {want[1], want[0]} : want;
                ParamTree.checkShape(mp.metaName() + " (merged over " + readers.size() + " shard(s))", merged,
                        metaWant, mp.path(), dir);
                var dtype = Conversions.targetDtype(readers.getFirst().info(mp.metaName()).dtype(), o);
                infos.add(new TensorInfo(mp.path(), dtype, want));
            }
            var byPath = new java.util.HashMap<String, MetaParam>();
            mapping.forEach(mp -> byPath.put(mp.path(), mp));
            CohxCheckpoint.write(out, cfg, 0, infos, (info, arena) -> {
                MetaParam mp = byPath.get(info.name());
                HostTensor merged = merge(readers, mp, arena);
                HostTensor t = mp.transpose() ? TensorOps.transpose2d(merged, mp.path(), arena) : merged.withName(mp.path());
                return TensorOps.cast(t, info.dtype(), arena);
            }, o.maxShardBytes(), Map.of("source", "meta:" + dir.toAbsolutePath()), o.progress());
            return cfg;
        } finally {
            readers.forEach(PthReader::close);
        }
    }

    private static long[] mergedShape(List<PthReader> readers, MetaParam mp) {
        long[] shape = null;
        for (PthReader r : readers) {
            long[] s = require(r, mp.metaName()).shape();
            if (shape == null) {
                shape = s;
            } else if (mp.concatDim() >= 0) {
                shape[mp.concatDim()] += s[mp.concatDim()];
            }
        }
        return shape;
    }

    // Memory: the shards' pieces (together one tensor) plus the merged tensor, all in the
    // per-tensor arena that the writer closes once the tensor is on disk.
    private static HostTensor merge(List<PthReader> readers, MetaParam mp, Arena arena) {
        if (readers.size() == 1) {
            return readers.getFirst().read(mp.metaName(), arena);
        }
        List<HostTensor> parts = new ArrayList<>();
        for (PthReader r : readers) {
            parts.add(r.read(mp.metaName(), arena));
        }
        return TensorOps.concat(parts, mp.concatDim(), mp.metaName(), arena);
    }
}
