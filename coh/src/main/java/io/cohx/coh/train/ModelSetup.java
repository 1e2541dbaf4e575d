package io.cohx.coh.train;

import io.cohx.engine.ArrayType;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.EngineException;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.engine.optim.AdamW;
import io.cohx.engine.optim.LrSchedule;
import io.cohx.engine.optim.Optimizer;
import io.cohx.engine.optim.Palm;
import io.cohx.models.CausalLm;
import io.cohx.models.checkpoint.CohxCheckpoint;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.gguf.GgufConfig;
import io.cohx.models.gguf.GgufReader;
import io.cohx.models.gguf.GgufVocabulary;
import io.cohx.models.tokenizer.BundledTokenizer;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.Tokenizers;
import io.cohx.pjrt.PjrtClient;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;

/** The model-side decisions of a training run: config, dtype, schedule, and where parameters come from. */
final class ModelSetup {
    private ModelSetup() {}

    /**
     * The model config: preset or file (without one, the config that comes with the starting
     * weights, else the debug preset), then {@code --update-model-config}, then the FCM flags.
     */
    static ModelConfig modelConfig(TrainConfig cfg) {
        ModelConfig mc = cfg.modelConfig() != null ? configFile(cfg.modelConfig(), cfg.model()) : startingConfig(cfg);
        if (!mc.modelType().equals(cfg.model())) {
            throw new TrainingException((cfg.modelConfig() != null ? "--model-config " + cfg.modelConfig() : cfg.loadCheckpoint()) + " is a "
                    + mc.modelType() + " config but --model is " + cfg.model());
        }
        if (cfg.updateModelConfig() != null && !cfg.updateModelConfig().isBlank()) {
            mc = mc.withUpdates(ModelConfigs.parseOverrides(cfg.updateModelConfig(), "--update-model-config"), "--update-model-config");
        }
        if (cfg.fcmMaxRatio() > 0) {
            var fcm = new LinkedHashMap<String, Object>();
            fcm.put("fcm_min_ratio", cfg.fcmMinRatio());
            fcm.put("fcm_max_ratio", cfg.fcmMaxRatio());
            mc = mc.withUpdates(fcm, "--fcm-min-ratio/--fcm-max-ratio");
        }
        return mc;
    }

    private static ModelConfig configFile(String spec, String modelType) {
        Path file = Path.of(spec);
        // A GGUF file carries its config in its metadata.
        if (GgufReader.isGguf(file)) {
            try (GgufReader r = GgufReader.open(file)) {
                return GgufConfig.read(r);
            }
        }
        return ModelConfigs.resolve(spec, modelType);
    }

    /**
     * The config the starting weights come with, when no --model-config is given: a GGUF file's
     * metadata, a Hugging Face folder's config.json, a cohx checkpoint's manifest; the debug preset
     * when they have none (fresh weights, Meta and streaming files).
     */
    private static ModelConfig startingConfig(TrainConfig cfg) {
        String spec = cfg.loadCheckpoint();
        int sep = spec == null ? -1 : spec.indexOf("::");
        Path path = sep < 0 ? null : Path.of(spec.substring(sep + 2));
        return switch (sep < 0 ? "" : spec.substring(0, sep)) {
            case "gguf" -> configFile(path.toString(), cfg.model());
            case "hf", "huggingface" -> ModelConfigs.read(path.resolve("config.json"), cfg.model());
            case "params", "trainstate", "trainstate_params" -> CohxCheckpoint.readManifest(path).config();
            default -> ModelConfigs.resolve("debug", cfg.model());
        };
    }

    /**
     * The run's tokenizer: {@code --tokenizer}, else the one that came with the starting weights
     * (a GGUF file's vocabulary, a checkpoint that keeps one, a Hugging Face folder's tokenizer files).
     */
    static Tokenizer tokenizer(TrainConfig cfg, BundledTokenizer bundled) {
        if (cfg.tokenizer() != null) {
            return Tokenizers.load(cfg.tokenizer());
        }
        String spec = cfg.loadCheckpoint();
        if (bundled != null) {
            return Tokenizers.fromVocabulary(bundled.vocabulary(), spec);
        }
        if (spec != null && (spec.startsWith("hf::") || spec.startsWith("huggingface::"))) {
            return Tokenizers.load(spec.substring(spec.indexOf("::") + 2));
        }
        throw new TrainingException("--tokenizer is required: " + (spec == null ? "fresh weights come" : spec + " comes")
                + " without a tokenizer; pass the model's tokenizer.model / tokenizer.json (or gpt2 for a model trained with it)");
    }

    /**
     * The tokenizer vocabulary and chat template the starting weights came with (a GGUF file, or
     * a cohx checkpoint that keeps one), so the run's checkpoints keep them too and export to GGUF
     * again; null when there is none.
     */
    static BundledTokenizer bundledTokenizer(TrainConfig cfg, TrainCheckpoint.Loaded resumed) {
        if (resumed != null) {
            return BundledTokenizer.readFrom(resumed.dir());
        }
        String spec = cfg.loadCheckpoint();
        if (spec == null || !spec.contains("::")) {
            return null;
        }
        String kind = spec.substring(0, spec.indexOf("::"));
        Path path = Path.of(spec.substring(spec.indexOf("::") + 2));
        return switch (kind) {
            case "gguf" -> {
                try (GgufReader r = GgufReader.open(path)) {
                    yield r.get("tokenizer.ggml.model") != null ? GgufVocabulary.read(r) : null;
                }
            }
            case "params", "trainstate_params" -> BundledTokenizer.readFrom(path);
            default -> null;
        };
    }

    static void checkVocab(Tokenizer tokenizer, ModelConfig mc, String spec) {
        if (tokenizer.vocabSize() > mc.vocabSize()) {
            throw new TrainingException("tokenizer " + spec + " has " + tokenizer.vocabSize() + " ids but the model's vocab_size is "
                    + mc.vocabSize() + "; use a matching tokenizer or --update-model-config vocab_size=" + tokenizer.vocabSize());
        }
    }

    /**
     * The compute dtype of {@code --dtype}: f32 or bf16 in any of {@link DType#parse}'s spellings.
     * f16 is refused: its 5-bit exponent flushes small gradients to zero and overflows large
     * activations unless the loss is scaled dynamically, which this trainer does not do; bf16
     * has f32's range at the same memory.
     */
    static DType dtype(String name) {
        DType d = null;
        try {
            d = DType.parse(name);
        } catch (EngineException e) {
            // named below, with the choices that fit this flag
        }
        if (d == DType.F32 || d == DType.BF16) {
            return d;
        }
        if (d == DType.F16) {
            throw new TrainingException("--dtype " + name + ": cohx train does not train in fp16 (it would need dynamic loss"
                    + " scaling: fp16's range loses small gradients and overflows); use bf16, which has fp32's range at the"
                    + " same memory, or fp32. fp16 is fine for cohx generate, serve and eval");
        }
        throw new TrainingException("--dtype " + name + ": use fp32 or bf16");
    }

    static LrSchedule schedule(TrainConfig cfg) {
        return switch (cfg.optimizer()) {
            case "adamw" -> LrSchedule.warmupCosine(cfg.initLr(), cfg.lr(), cfg.lrWarmupSteps(), cfg.lrDecaySteps(), cfg.endLr());
            case "palm" -> LrSchedule.palm(cfg.lr(), cfg.lrWarmupSteps());
            default -> throw new TrainingException("--optimizer " + cfg.optimizer() + ": use adamw or palm");
        };
    }

    /** The original's "adamw" (clip, AdamW, masked decay) or "palm" (clip, unfactored Adafactor, scheduled decay). */
    static Optimizer optimizer(TrainConfig cfg, CausalLm model) {
        return switch (cfg.optimizer()) {
            case "adamw" -> new AdamW(cfg.b1(), cfg.b2(), 1e-8, cfg.weightDecay(), cfg.clipGradient(), cfg.bf16Momentum(), model::decays);
            case "palm" -> new Palm(cfg.b1(), cfg.b2(), cfg.weightDecay(), cfg.clipGradient(), cfg.bf16Momentum(), model::decays);
            default -> throw new TrainingException("--optimizer " + cfg.optimizer() + ": use adamw or palm");
        };
    }

    static long parameterCount(CausalLm model) {
        return model.paramTypes().values().stream().mapToLong(t -> t.shape().size()).sum();
    }

    /** Parameters to start from: {@code --load-checkpoint} (params::, trainstate_params::, hf::, meta::, streaming::, gguf::) or fresh from the seed. */
    static Tree<Object> initialParams(TrainConfig cfg, CausalLm model, TrainStep program, PjrtClient client, PrintStream out) {
        return initialParams(cfg, model, program, client, out, b -> b);
    }

    /** {@code layout} adds the run's mesh to the init program, so fresh parameters are born sharded. */
    static Tree<Object> initialParams(TrainConfig cfg, CausalLm model, TrainStep program, PjrtClient client, PrintStream out,
                                      java.util.function.UnaryOperator<Jit.Builder> layout) {
        String spec = cfg.loadCheckpoint();
        if (spec == null || spec.isBlank()) {
            try (Jit init = layout.apply(Jit.builder("init_params", program.initFunction())).build(client)) {
                Tree<DeviceArray> p = init.call(Tree.empty());
                return p.map(x -> (Object) x);
            }
        }
        int sep = spec.indexOf("::");
        if (sep < 0) {
            throw new TrainingException("--load-checkpoint " + spec + ": expected KIND::PATH with KIND params, trainstate or trainstate_params");
        }
        String kind = spec.substring(0, sep);
        Path path = Path.of(spec.substring(sep + 2));
        Tree<NdArray> params = switch (kind) {
            case "params", "trainstate_params" -> TrainCheckpoint.load(path, false).params();
            case "hf", "huggingface" -> io.cohx.models.HfWeights.load(path).params();
            case "gguf" -> io.cohx.models.GgufWeights.load(path).params();
            case "meta", "streaming" -> converted(kind, path, model, cfg, out);
            default -> throw new TrainingException("--load-checkpoint " + spec + ": unknown kind '" + kind
                    + "'; use params::DIR, trainstate::DIR, trainstate_params::DIR, hf::DIR, meta::DIR, streaming::FILE or gguf::FILE");
        };
        checkShapes(model.paramTypes(), params, path);
        out.println("loaded parameters from " + path);
        return params.map(x -> (Object) x);
    }

    /** Meta .pth folders and streaming files are converted to a cohx folder next to the run first (tensor by tensor). */
    private static Tree<NdArray> converted(String kind, Path path, CausalLm model, TrainConfig cfg, PrintStream out) {
        Path tmp = cfg.outputDir().resolve("imported-" + kind);
        TrainCheckpoint.deleteTreeIfExists(tmp);
        out.println("converting " + path + " (" + kind + ") into " + tmp);
        var o = io.cohx.models.convert.Conversions.Options.defaults();
        if (kind.equals("meta")) {
            io.cohx.models.convert.Conversions.metaToCohx(path, tmp, o);
        } else {
            io.cohx.models.convert.Conversions.streamingToCohx(path, model.config(), tmp, o);
        }
        return TrainCheckpoint.load(tmp, false).params();
    }

    /** Every parameter the model needs is there with its shape; errors name the tensor and both shapes. */
    static void checkShapes(Tree<ArrayType> want, Tree<NdArray> got, Path source) {
        for (String p : want.paths()) {
            if (!got.has(p)) {
                throw new TrainingException(source + ": no tensor '" + p + "', which the model needs");
            }
            int[] a = got.get(p).shape().dims();
            int[] b = want.get(p).shape().dims();
            if (!Arrays.equals(a, b)) {
                throw new TrainingException(source + ": tensor '" + p + "' has shape " + Arrays.toString(a) + " but the model config needs "
                        + Arrays.toString(b));
            }
        }
        for (String p : got.paths()) {
            if (!want.has(p)) {
                throw new TrainingException(source + ": tensor '" + p + "' is not a parameter of this model (is it another model type or config?)");
            }
        }
    }
}
