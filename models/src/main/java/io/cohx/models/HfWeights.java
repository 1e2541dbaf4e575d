package io.cohx.models;

import io.cohx.engine.ArrayType;
import io.cohx.engine.DType;
import io.cohx.engine.NdArray;
import io.cohx.engine.Shape;
import io.cohx.engine.Tree;
import io.cohx.models.checkpoint.CheckpointException;
import io.cohx.models.checkpoint.HostTensor;
import io.cohx.models.checkpoint.SafetensorsReader;
import io.cohx.models.checkpoint.TensorInfo;
import io.cohx.models.checkpoint.TensorOps;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.params.HfNaming;
import io.cohx.models.params.ParamTree;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads a Hugging Face {@code LlamaForCausalLM} / {@code GPTJForCausalLM} folder
 * ({@code config.json} + {@code model.safetensors} or shards with an index) into the canonical
 * parameter tree as f32 host arrays, ready to pass to a compiled model: names mapped and kernels
 * transposed by {@link HfNaming} (LLaMA q/k rows also permuted back to interleaved rotary pairs),
 * each tensor's shape checked against the config.
 */
public final class HfWeights {
    private HfWeights() {}

    /** A model config and its parameters. */
    public record Loaded(ModelConfig config, Tree<NdArray> params) {}

    /** Reads {@code dir}; errors name the folder, the tensor and what is wrong. */
    public static Loaded load(Path dir) {
        Path cfgFile = dir.resolve("config.json");
        if (!Files.isRegularFile(cfgFile)) {
            throw new CheckpointException(dir + " has no config.json; pass a Hugging Face model folder");
        }
        ModelConfig config = ModelConfigs.read(cfgFile, null);
        HfNaming naming = HfNaming.of(config);
        Tree<NdArray> params = Tree.empty();
        try (SafetensorsReader r = SafetensorsReader.open(weightsOf(dir))) {
            for (HfNaming.Entry e : naming.entries()) {
                TensorInfo info = r.info(e.hfName());
                if (info == null) {
                    throw new CheckpointException(r.source() + " has no tensor '" + e.hfName() + "' (for " + e.path()
                            + "); check that the config belongs to these weights");
                }
                ParamTree.checkShape(e.hfName(), info.shape(), e.hfShape(), e.path(), r.source());
                try (Arena arena = Arena.ofConfined()) {
                    HostTensor t = TensorOps.cast(naming.fromHf(e, r.read(e.hfName(), arena), arena), DType.F32, arena);
                    params = params.with(e.path(), toNdArray(t));
                }
            }
        }
        return new Loaded(config, params);
    }

    /** The weights transformers loads from {@code dir}: its index, else model.safetensors, else the folder's only safetensors file. */
    static Path weightsOf(Path dir) {
        for (String name : new String[] {"model.safetensors.index.json", "model.safetensors"}) {
            if (Files.isRegularFile(dir.resolve(name))) {
                return dir.resolve(name);
            }
        }
        return dir;
    }

    /** A copy of an f32 host tensor as an engine host array. */
    public static NdArray toNdArray(HostTensor t) {
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException("tensor " + t.describe() + ": expected f32; cast it first");
        }
        NdArray a = NdArray.zeros(new ArrayType(DType.F32, Shape.of(t.shape())));
        MemorySegment.copy(t.data(), 0, a.segment(), 0, t.byteSize());
        return a;
    }
}
