package io.cohx.models;

import io.cohx.engine.DType;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.convert.GgufLlama;
import io.cohx.models.gguf.GgufNaming;
import io.cohx.models.tokenizer.BundledTokenizer;

import java.lang.foreign.Arena;
import java.nio.file.Path;

/**
 * Loads a GGUF file (llama.cpp, Ollama) into the canonical parameter tree as f32 host arrays,
 * ready to pass to a compiled model, as {@code --load-checkpoint gguf::FILE} does for
 * {@code cohx train}, {@code serve} and {@code generate}: the config from the file's metadata,
 * every tensor dequantized and laid out by {@link GgufNaming}, one at a time, and the tokenizer
 * vocabulary and chat template the file carries (null when it has none).
 */
public final class GgufWeights {
    private GgufWeights() {}

    /** A model config, its parameters and the file's tokenizer. */
    public record Loaded(ModelConfig config, Tree<NdArray> params, BundledTokenizer tokenizer) {}

    /** Reads {@code file}; errors name the file, the key or tensor, and what cohx supports. */
    public static Loaded load(Path file) {
        try (GgufLlama.Opened g = GgufLlama.open(file)) {
            Tree<NdArray> params = Tree.empty();
            for (GgufNaming.Entry e : g.naming().entries()) {
                try (Arena arena = Arena.ofConfined()) {
                    params = params.with(e.path(), HfWeights.toNdArray(g.read(e, DType.F32, arena)));
                }
            }
            return new Loaded(g.config(), params, g.tokenizer());
        }
    }
}
