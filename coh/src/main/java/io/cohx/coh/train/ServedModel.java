package io.cohx.coh.train;

import io.cohx.engine.ArrayType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Rng;
import io.cohx.engine.Tree;
import io.cohx.models.CausalLm;
import io.cohx.models.GgufWeights;
import io.cohx.models.HfWeights;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.tokenizer.BundledTokenizer;
import io.cohx.pjrt.PjrtClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The model a server or {@code cohx generate} runs: from {@code --load-checkpoint} as in
 * {@code cohx train} ({@code params::DIR} / {@code trainstate::DIR} / {@code trainstate_params::DIR}
 * for a cohx checkpoint folder or a run folder with checkpoints/LATEST, {@code hf::DIR} for a
 * Hugging Face folder, {@code gguf::FILE} for a llama.cpp GGUF file), whose config comes with the
 * weights; or, with no checkpoint, fresh random weights of {@code --model}/{@code --model-config}
 * from a seed (for trying the server out).
 *
 * @param params    host arrays (checkpoints) or device arrays (random init)
 * @param tokenizer the vocabulary and chat template that came with the weights (a GGUF file, or a
 *                  cohx checkpoint imported from one), or null
 */
public record ServedModel(CausalLm model, Tree<?> params, String source, BundledTokenizer tokenizer) {

    public ServedModel(CausalLm model, Tree<?> params, String source) {
        this(model, params, source, null);
    }

    public static ServedModel load(String checkpoint, String modelType, String modelConfig, String updates, long seed, PjrtClient client) {
        if (checkpoint == null || checkpoint.isBlank()) {
            ModelConfig mc = ModelConfigs.resolve(modelConfig, modelType);
            if (updates != null && !updates.isBlank()) {
                mc = mc.withUpdates(ModelConfigs.parseOverrides(updates, "--update-model-config"), "--update-model-config");
            }
            CausalLm lm = CausalLm.of(mc);
            try (Jit init = Jit.builder("init_params", t -> lm.init(Rng.key(seed))).build(client)) {
                Tree<DeviceArray> p = init.call(Tree.empty());
                return new ServedModel(lm, p, "random weights (" + mc.modelType() + " " + modelConfig + ", seed " + seed + ")");
            }
        }
        int sep = checkpoint.indexOf("::");
        if (sep < 0) {
            throw new IllegalArgumentException("--load-checkpoint " + checkpoint + ": expected KIND::PATH, e.g. params::runs/demo/run or hf::DIR");
        }
        String kind = checkpoint.substring(0, sep);
        Path path = Path.of(checkpoint.substring(sep + 2));
        return switch (kind) {
            case "params", "trainstate", "trainstate_params" -> {
                Path dir = Files.isDirectory(path.resolve("checkpoints")) ? TrainCheckpoint.latest(path) : path;
                if (dir == null) {
                    throw new IllegalArgumentException("--load-checkpoint " + checkpoint + ": " + path + " has no checkpoint yet");
                }
                TrainCheckpoint.Loaded l = TrainCheckpoint.load(dir, false);
                CausalLm lm = CausalLm.of(l.config());
                check(lm, l.params(), dir);
                yield new ServedModel(lm, l.params(), dir + " (step " + l.step() + ")", BundledTokenizer.readFrom(dir));
            }
            case "hf", "huggingface" -> {
                HfWeights.Loaded l = HfWeights.load(path);
                CausalLm lm = CausalLm.of(l.config());
                check(lm, l.params(), path);
                yield new ServedModel(lm, l.params(), path.toString());
            }
            case "gguf" -> {
                GgufWeights.Loaded l = GgufWeights.load(path);
                CausalLm lm = CausalLm.of(l.config());
                check(lm, l.params(), path);
                yield new ServedModel(lm, l.params(), path.toString(), l.tokenizer());
            }
            default -> throw new IllegalArgumentException("--load-checkpoint " + checkpoint + ": unknown kind '" + kind
                    + "'; use params::DIR, trainstate::DIR, trainstate_params::DIR, hf::DIR or gguf::FILE");
        };
    }

    private static void check(CausalLm lm, Tree<NdArray> params, Path source) {
        Tree<ArrayType> want = lm.paramTypes();
        for (String p : want.paths()) {
            if (!params.has(p)) {
                throw new IllegalArgumentException(source + ": no tensor '" + p + "', which the model needs");
            }
            if (!Arrays.equals(params.get(p).shape().dims(), want.get(p).shape().dims())) {
                throw new IllegalArgumentException(source + ": tensor '" + p + "' has shape " + params.get(p).shape() + " but the config needs "
                        + want.get(p).shape());
            }
        }
    }
}
