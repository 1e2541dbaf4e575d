package io.cohx.models.convert;

import io.cohx.engine.DType;
import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.checkpoint.CohxCheckpoint;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.TensorInfo;
import io.cohx.models.checkpoint.TensorReader;
import io.cohx.models.checkpoint.WriteProgress;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.gguf.GgmlType;
import io.cohx.models.gguf.GgufConfig;
import io.cohx.models.gguf.GgufNaming;
import io.cohx.models.gguf.GgufReader;
import io.cohx.models.gguf.GgufValue;
import io.cohx.models.gguf.GgufVocabulary;
import io.cohx.models.gguf.GgufWriter;
import io.cohx.models.params.ParamTree;
import io.cohx.models.tokenizer.BundledTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GGUF files (llama.cpp, Ollama) to and from cohx checkpoint folders, tensor by tensor. Import
 * dequantizes every tensor (to f32 by default, or straight to bf16), transposes linear weights to
 * cohx's {@code [in, out]} kernels, and keeps the file's tokenizer vocabulary and chat template in
 * the checkpoint. Export writes F32, F16, BF16 or Q8_0 (1-D norm weights stay F32, as llama.cpp's
 * converter keeps them) with the metadata and tokenizer llama.cpp needs to load the model.
 */
public final class GgufLlama {
    private GgufLlama() {}

    /** A GGUF file opened as a cohx model: config, parameter naming, tokenizer (null if the file has none). */
    public record Opened(GgufReader reader, ModelConfig config, GgufNaming naming, BundledTokenizer tokenizer)
            implements AutoCloseable {
        /** Canonical parameter {@code e.path()} as {@code dtype} (F32 or BF16), in {@code arena}. */
        public HostTensor read(GgufNaming.Entry e, DType dtype, java.lang.foreign.Arena arena) {
            return naming.fromGguf(e, reader.read(e.ggufName(), dtype, arena), arena);
        }

        @Override
        public void close() {
            reader.close();
        }
    }

    /**
     * Opens {@code file} as a model: config from the metadata, every tensor's name and shape
     * checked against it (errors name the file and the tensor), the tokenizer mapped when the file
     * has one.
     */
    public static Opened open(Path file) {
        GgufReader r = GgufReader.open(file);
        try {
            ModelConfig cfg = GgufConfig.read(r);
            GgufNaming naming = GgufNaming.of(cfg);
            Conversions.checkNames(r.directory().stream().map(GgufReader.Tensor::name).toList(),
                    naming.entries().stream().map(GgufNaming.Entry::ggufName).toList(), GgufNaming::ignorable, file);
            for (GgufNaming.Entry e : naming.entries()) {
                ParamTree.checkShape(e.ggufName(), r.tensor(e.ggufName()).shape(), e.ggufShape(), e.path(), file);
            }
            BundledTokenizer tok = r.get("tokenizer.ggml.model") != null ? GgufVocabulary.read(r) : null;
            return new Opened(r, cfg, naming, tok);
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
    }

    /** A GGUF file → cohx folder; float tensors as {@code o.dtype()} (F32 or BF16; default F32). */
    public static ModelConfig toCohx(Path file, Path out, Conversions.Options o) {
        DType dtype = o.dtype() == null ? DType.F32 : o.dtype();
        if (dtype != DType.F32 && dtype != DType.BF16) {
            throw new CheckpointException("GGUF tensors import as f32 or bf16, not " + dtype + " (--dtype f32|bf16)");
        }
        try (Opened g = open(file)) {
            List<TensorInfo> infos = new ArrayList<>();
            for (GgufNaming.Entry e : g.naming().entries()) {
                infos.add(new TensorInfo(e.path(), dtype, e.shape()));
            }
            var extra = new LinkedHashMap<String, Object>();
            extra.put("source", "gguf:" + file.toAbsolutePath());
            GgufValue name = g.reader().get("general.name");
            if (name != null && name.type() == GgufValue.Type.STRING) {
                extra.put("name", name.asString());
            }
            CohxCheckpoint.write(out, g.config(), 0, infos, (info, arena) -> g.read(g.naming().byPath(info.name()), info.dtype(), arena),
                    o.maxShardBytes(), extra, g.tokenizer(), o.progress());
            return g.config();
        }
    }

    /**
     * A cohx folder → GGUF file {@code out}, weights as {@code type}. The tokenizer is the one the
     * checkpoint keeps, else the one of {@code vocabFrom} (a GGUF file or a cohx folder with one);
     * llama.cpp cannot load a model without it.
     */
    public static void fromCohx(Path cohxDir, Path out, GgmlType type, Path vocabFrom, WriteProgress progress) {
        if (!GgufWriter.WRITABLE.contains(type)) {
            throw new CheckpointException("cohx writes GGUF weights as " + GgufWriter.WRITABLE + ", not " + type);
        }
        try (CohxCheckpoint.Opened ck = CohxCheckpoint.open(cohxDir)) {
            ModelConfig cfg = ck.manifest().config();
            GgufNaming naming = GgufNaming.of(cfg);
            TensorReader r = ck.params();
            Conversions.checkCanonical(r, cfg);
            BundledTokenizer tok = vocabFrom != null ? tokenizerOf(vocabFrom) : CohxCheckpoint.tokenizer(cohxDir);
            if (tok == null) {
                throw new CheckpointException(cohxDir + " keeps no tokenizer vocabulary (it was not imported from GGUF), and llama.cpp"
                        + " needs one in the file; pass --vocab-from with the GGUF file or cohx checkpoint it came from");
            }
            if (tok.vocabulary().tokens().size() > cfg.vocabSize()) {
                throw new CheckpointException("the tokenizer has " + tok.vocabulary().tokens().size() + " tokens but the model's"
                        + " vocab_size is " + cfg.vocabSize() + "; pass --vocab-from with the model's own tokenizer");
            }
            Object sourceName = ck.manifest().extra().get("name");
            Map<String, GgufValue> meta = new LinkedHashMap<>(GgufConfig.metadata(cfg,
                    sourceName instanceof String s ? s : cohxDir.toAbsolutePath().getFileName().toString(), type));
            meta.putAll(GgufVocabulary.metadata(tok));
            List<GgufWriter.Spec> specs = new ArrayList<>();
            HostTensor ropeFreqs = GgufConfig.ropeFreqs(cfg);
            if (ropeFreqs != null) {
                specs.add(new GgufWriter.Spec(ropeFreqs.name(), GgmlType.F32, ropeFreqs.shape()));
            }
            for (GgufNaming.Entry e : naming.entries()) {
                specs.add(new GgufWriter.Spec(e.ggufName(), encoding(e, type), e.ggufShape()));
            }
            GgufWriter.write(out, meta, specs, 32, (spec, arena) -> {
                if (ropeFreqs != null && spec.name().equals(ropeFreqs.name())) {
                    return ropeFreqs;
                }
                GgufNaming.Entry e = naming.byGgufName(spec.name());
                return naming.toGguf(e, r.read(e.path(), arena), arena);
            }, progress);
        }
    }

    /** Norm weights (1-D) stay F32, as in llama.cpp's converter; so do rows Q8_0's blocks of 32 do not divide. */
    private static GgmlType encoding(GgufNaming.Entry e, GgmlType type) {
        long[] s = e.ggufShape();
        if (s.length == 1 || s[s.length - 1] % type.blockSize() != 0) {
            return GgmlType.F32;
        }
        return type;
    }

    /** The tokenizer of a GGUF file or of a cohx folder that keeps one. */
    public static BundledTokenizer tokenizerOf(Path source) {
        if (Files.isDirectory(source)) {
            BundledTokenizer t = CohxCheckpoint.tokenizer(source);
            if (t == null) {
                throw new CheckpointException(source + " keeps no tokenizer vocabulary (no " + BundledTokenizer.VOCABULARY_FILE + ")");
            }
            return t;
        }
        try (GgufReader r = GgufReader.open(source)) {
            return GgufVocabulary.read(r);
        }
    }
}
