package io.cohx.models.convert;

import io.cohx.engine.DType;
import io.cohx.models.checkpoint.AtomicFiles;
import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.checkpoint.CohxCheckpoint;
import io.cohx.models.checkpoint.DTypeNames;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.SafetensorsReader;
import io.cohx.models.checkpoint.SafetensorsWriter;
import io.cohx.models.checkpoint.StreamingReader;
import io.cohx.models.checkpoint.StreamingWriter;
import io.cohx.models.checkpoint.TensorInfo;
import io.cohx.models.checkpoint.TensorOps;
import io.cohx.models.checkpoint.TensorReader;
import io.cohx.models.checkpoint.WriteProgress;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.params.HfNaming;
import io.cohx.models.params.ParamSpec;
import io.cohx.models.params.ParamTree;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The checkpoint conversions behind {@code cohx convert}: Hugging Face folders, Meta's
 * {@code consolidated.*.pth}, GGUF files and the reference's streaming msgpack files to and from the cohx
 * checkpoint folder. Each streams tensor by tensor (read one, rearrange, cast, write, free), so
 * converting a model needs memory for about its largest tensor, and each checks every tensor's
 * name and shape against the model config before writing anything.
 */
public final class Conversions {
    private Conversions() {}

    /**
     * Options shared by all conversions: {@code dtype} for float tensors (null keeps the source's),
     * the safetensors shard size, and a progress listener.
     */
    public record Options(DType dtype, long maxShardBytes, WriteProgress progress) {
        public static Options defaults() {
            return new Options(null, CohxCheckpoint.DEFAULT_SHARD_BYTES, WriteProgress.NONE);
        }

        public Options withDtype(DType d) {
            return new Options(d, maxShardBytes, progress);
        }
    }

    /** Hugging Face's default shard size for {@code save_pretrained}. */
    public static final long HF_SHARD_BYTES = 5_000_000_000L;

    /** A Hugging Face LlamaForCausalLM/GPTJForCausalLM folder (config.json + safetensors) → cohx folder. */
    public static ModelConfig hfToCohx(Path hfDir, Path out, Options o) {
        Path cfgFile = hfDir.resolve("config.json");
        if (!Files.isRegularFile(cfgFile)) {
            throw new CheckpointException(hfDir + " has no config.json; pass a Hugging Face model folder");
        }
        ModelConfig cfg = ModelConfigs.read(cfgFile, null);
        HfNaming naming = HfNaming.of(cfg);
        try (SafetensorsReader r = SafetensorsReader.open(hfDir)) {
            checkNames(names(r), naming.entries().stream().map(HfNaming.Entry::hfName).toList(),
                    naming::ignorable, r.source());
            List<TensorInfo> infos = new ArrayList<>();
            for (HfNaming.Entry e : naming.entries()) {
                TensorInfo src = r.info(e.hfName());
                ParamTree.checkShape(e.hfName(), src.shape(), e.hfShape(), e.path(), r.source());
                infos.add(new TensorInfo(e.path(), targetDtype(src.dtype(), o), e.shape()));
            }
            CohxCheckpoint.write(out, cfg, 0, infos, (info, arena) -> {
                HfNaming.Entry e = naming.byPath(info.name());
                return TensorOps.cast(naming.fromHf(e, r.read(e.hfName(), arena), arena), info.dtype(), arena);
            }, o.maxShardBytes(), Map.of("source", "huggingface:" + hfDir.toAbsolutePath()), o.progress());
        }
        return cfg;
    }

    /**
     * A cohx folder → a Hugging Face folder that {@code transformers} loads with
     * {@code AutoModelForCausalLM.from_pretrained}: config.json, generation_config.json and
     * {@code model.safetensors} (or shards + {@code model.safetensors.index.json}).
     */
    public static ModelConfig cohxToHf(Path cohxDir, Path out, Options o) {
        try (CohxCheckpoint.Opened ck = CohxCheckpoint.open(cohxDir)) {
            ModelConfig cfg = ck.manifest().config();
            HfNaming naming = HfNaming.of(cfg);
            TensorReader r = ck.params();
            checkCanonical(r, cfg);
            List<TensorInfo> infos = new ArrayList<>();
            Set<DType> dtypes = new HashSet<>();
            for (HfNaming.Entry e : naming.entries()) {
                DType d = targetDtype(r.info(e.path()).dtype(), o);
                dtypes.add(d);
                infos.add(new TensorInfo(e.hfName(), d, e.hfShape()));
            }
            Path tmp = AtomicFiles.beginFolder(out);
            try {
                SafetensorsWriter.writeSharded(tmp, "model", infos, Map.of("format", "pt"),
                        o.maxShardBytes() > 0 ? o.maxShardBytes() : HF_SHARD_BYTES, (info, arena) -> {
                            HfNaming.Entry e = naming.byHfName(info.name());
                            return TensorOps.cast(naming.toHf(e, r.read(e.path(), arena), arena), info.dtype(), arena);
                        }, o.progress());
                String torchDtype = dtypes.size() == 1 ? DTypeNames.of(dtypes.iterator().next()).numpy() : "float32";
                AtomicFiles.writeString(tmp.resolve("config.json"), ModelConfigs.toJson(cfg.toHfConfig(torchDtype)));
                AtomicFiles.writeString(tmp.resolve("generation_config.json"),
                        ModelConfigs.toJson(ModelConfigs.hfGenerationConfig(cfg)));
                AtomicFiles.commitFolder(tmp, out);
            } catch (RuntimeException e) {
                AtomicFiles.deleteQuietly(tmp);
                throw e;
            }
            return cfg;
        }
    }

    /**
     * A reference streaming checkpoint ({@code streaming_params} or {@code streaming_train_state},
     * whose parameters sit under {@code params.params}) → cohx folder, with {@code config} giving
     * the model (the streaming file does not hold it). The train state's step is kept.
     */
    public static void streamingToCohx(Path file, ModelConfig config, Path out, Options o) {
        try (StreamingReader r = StreamingReader.open(file)) {
            boolean trainState = r.records().stream().anyMatch(x -> x.name().startsWith("params.params."));
            String prefix = trainState ? "params.params." : "";
            ParamTree tree = ParamTree.of(config);
            List<String> present = r.tensors().stream().map(TensorInfo::name)
                    .filter(n -> n.startsWith(prefix)).map(n -> n.substring(prefix.length())).toList();
            checkNames(present, tree.params().stream().map(ParamSpec::path).toList(), n -> false, file);
            long step = 0;
            StreamingReader.Record stepRec = r.record("step");
            if (trainState && stepRec != null && stepRec.info() != null) {
                try (Arena a = Arena.ofConfined()) {
                    step = (long) r.read("step", a).getDouble(0);
                }
            }
            List<TensorInfo> infos = new ArrayList<>();
            for (ParamSpec p : tree.params()) {
                TensorInfo src = r.info(prefix + p.path());
                ParamTree.checkShape(src.name(), src.shape(), p.shape(), p.path(), file);
                infos.add(new TensorInfo(p.path(), targetDtype(src.dtype(), o), p.shape()));
            }
            CohxCheckpoint.write(out, config, step, infos, (info, arena) ->
                            TensorOps.cast(r.read(prefix + info.name(), arena), info.dtype(), arena).withName(info.name()),
                    o.maxShardBytes(), Map.of("source", "streaming:" + file.toAbsolutePath()), o.progress());
        }
    }

    /**
     * A cohx folder → a reference {@code streaming_params} file (keys are the canonical paths as
     * tuples), float tensors cast to {@code floatDtype} (the reference's default is bf16; null keeps them).
     */
    public static void cohxToStreaming(Path cohxDir, Path outFile, DType floatDtype, WriteProgress progress) {
        try (CohxCheckpoint.Opened ck = CohxCheckpoint.open(cohxDir);
             StreamingWriter w = new StreamingWriter(outFile, floatDtype)) {
            ModelConfig cfg = ck.manifest().config();
            checkCanonical(ck.params(), cfg);
            List<ParamSpec> params = ParamTree.of(cfg).params();
            int i = 0;
            for (ParamSpec p : params) {
                try (Arena arena = Arena.ofConfined()) {
                    HostTensor t = ck.params().read(p.path(), arena);
                    w.write(List.of(p.path().split("\\.")), t);
                }
                progress.tensorWritten(++i, params.size(), ck.params().info(p.path()));
            }
            w.commit();
        }
    }

    /** Meta's LLaMA folder (params.json + consolidated.NN.pth) → cohx folder; see {@link MetaLlama}. */
    public static ModelConfig metaToCohx(Path metaDir, Path out, Options o) {
        return MetaLlama.convert(metaDir, out, o);
    }

    /** A GGUF file (llama.cpp) → cohx folder keeping its tokenizer; see {@link GgufLlama}. */
    public static ModelConfig ggufToCohx(Path file, Path out, Options o) {
        return GgufLlama.toCohx(file, out, o);
    }

    /**
     * A cohx folder → GGUF file with weights as {@code type} (F32, F16, BF16, Q8_0) and the tokenizer
     * the folder keeps, or that of {@code vocabFrom} (a GGUF file or cohx folder; may be null); see {@link GgufLlama}.
     */
    public static void cohxToGguf(Path cohxDir, Path out, io.cohx.models.gguf.GgmlType type, Path vocabFrom, WriteProgress progress) {
        GgufLlama.fromCohx(cohxDir, out, type, vocabFrom, progress);
    }

    static DType targetDtype(DType src, Options o) {
        return o.dtype() != null && src.isFloating() ? o.dtype() : src;
    }

    private static List<String> names(TensorReader r) {
        return r.tensors().stream().map(TensorInfo::name).toList();
    }

    /** Checks a cohx checkpoint's tensors are exactly {@code cfg}'s parameters, with the right shapes. */
    static void checkCanonical(TensorReader r, ModelConfig cfg) {
        ParamTree tree = ParamTree.of(cfg);
        checkNames(names(r), tree.params().stream().map(ParamSpec::path).toList(), n -> false, r.source());
        for (ParamSpec p : tree.params()) {
            ParamTree.checkShape(p.path(), r.info(p.path()).shape(), p.shape(), p.path(), r.source());
        }
    }

    /** Every expected name present, and nothing else but ignorable names; the error lists what is wrong. */
    static void checkNames(Collection<String> present, Collection<String> expected, Predicate<String> ignorable,
                           Object source) {
        Set<String> have = new HashSet<>(present);
        List<String> missing = expected.stream().filter(n -> !have.contains(n)).toList();
        Set<String> want = new HashSet<>(expected);
        List<String> extra = present.stream().filter(n -> !want.contains(n) && !ignorable.test(n)).toList();
        if (!missing.isEmpty()) {
            throw new CheckpointException(source + " lacks " + missing.size() + " tensor(s) the model config needs: "
                    + head(missing) + (extra.isEmpty() ? "" : "; it has unexpected ones: " + head(extra))
                    + "; check the model type and config (layers, tied embeddings)");
        }
        if (!extra.isEmpty()) {
            throw new CheckpointException(source + " has " + extra.size() + " tensor(s) the model config does not: "
                    + head(extra) + "; check the model type and config (layers, tied embeddings)");
        }
    }

    private static String head(List<String> names) {
        return names.size() <= 5 ? String.join(", ", names)
                : String.join(", ", names.subList(0, 5)) + " ... (" + (names.size() - 5) + " more)";
    }
}
