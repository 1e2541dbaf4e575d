package io.cohx.coh.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Everything one {@code cohx train} run is told. The original trainer's defaults (docs/COH.md#optimizers)
 * are written once, in {@link Builder} ({@link #optimizerDefault} for the two that depend on the
 * optimizer): {@link #of} starts from them and names what differs. It is
 * saved, resolved, with every checkpoint ({@link #toMap()}, keyed by the option names in snake_case).
 *
 * @param model            {@code llama} or {@code gptj}
 * @param modelConfig      a preset name (debug, 7b, ...), a JSON / Hugging Face config.json / GGUF path, or null: the
 *                         config that comes with {@code loadCheckpoint} (debug for fresh weights)
 * @param updateModelConfig JSON object or {@code key=value,...} applied on top, or null
 * @param loadCheckpoint   {@code params::DIR}, {@code trainstate::DIR}, {@code trainstate_params::DIR}, {@code hf::DIR},
 *                         {@code gguf::FILE}, ..., or null
 * @param tokenizer        a tokenizer file/folder or a built-in name ({@code gpt2}, {@code gptj}), or null: the one
 *                         that comes with {@code loadCheckpoint}; in a dry run without either, bos comes from the model config
 * @param trainData        CoH feedback JSONL files (from {@code cohx pack})
 * @param evalData         feedback eval files (may be empty)
 * @param ptTrainData      pretraining text JSONL files (may be empty: no pretraining loss)
 * @param ptEvalData       pretraining eval files (may be empty)
 * @param ptTextField      key of the text in pretraining records
 * @param remat            rematerialize each block in the backward pass (the original's "nothing_saveable")
 * @param rematPolicy      what a rematerialized block keeps ({@link io.cohx.engine.RematPolicy} names), or null: the
 *                         model config's remat_policy when its gradient_checkpointing is on, else nothing_saveable;
 *                         naming one turns remat on
 * @param lossChunk        positions of the loss made at a time (0: all; must divide {@code seqLength}); same loss,
 *                         less memory for the logits
 * @param attentionChunk   queries of attention made at a time (0: all; must divide {@code seqLength}); same result,
 *                         less memory for the scores
 * @param noCrossExampleAttention examples packed into one row do not attend to each other and their
 *                         positions restart at 0 (block-diagonal causal mask from the packer's
 *                         segment ids); off = the original trainer's plain causal mask over the row
 */
public record TrainConfig(
        String model, String modelConfig, String updateModelConfig, String loadCheckpoint, String tokenizer,
        List<Path> trainData, List<Path> evalData, List<Path> ptTrainData, List<Path> ptEvalData, String ptTextField,
        int seqLength, int batchSize, double ptLossWeight,
        String optimizer, double lr, double initLr, double endLr, long lrWarmupSteps, long lrDecaySteps,
        double b1, double b2, double weightDecay, double clipGradient, boolean bf16Momentum, int accumulateGradientSteps,
        String dtype, long totalSteps, long logFreq, long evalSteps, long saveModelFreq, long saveMilestoneFreq,
        String meshDim, long seed, double fcmMinRatio, double fcmMaxRatio, boolean remat,
        String rematPolicy, int lossChunk, int attentionChunk, Path outputDir, boolean resume, boolean noCrossExampleAttention) {

    public TrainConfig {
        trainData = List.copyOf(trainData);
        evalData = List.copyOf(evalData);
        ptTrainData = List.copyOf(ptTrainData);
        ptEvalData = List.copyOf(ptEvalData);
    }

    /** The resolved configuration as JSON-ready data (option names as keys, snake_case like the original). */
    public Map<String, Object> toMap() {
        var m = new LinkedHashMap<String, Object>();
        m.put("model", model);
        m.put("model_config", modelConfig);
        m.put("update_model_config", updateModelConfig);
        m.put("load_checkpoint", loadCheckpoint);
        m.put("tokenizer", tokenizer);
        m.put("train_data", trainData.stream().map(Path::toString).toList());
        m.put("eval_data", evalData.stream().map(Path::toString).toList());
        m.put("pt_train_data", ptTrainData.stream().map(Path::toString).toList());
        m.put("pt_eval_data", ptEvalData.stream().map(Path::toString).toList());
        m.put("pt_text_field", ptTextField);
        m.put("seq_length", seqLength);
        m.put("batch_size", batchSize);
        m.put("pt_loss_weight", ptLossWeight);
        m.put("optimizer", optimizer);
        m.put("lr", lr);
        m.put("init_lr", initLr);
        m.put("end_lr", endLr);
        m.put("lr_warmup_steps", lrWarmupSteps);
        m.put("lr_decay_steps", lrDecaySteps);
        m.put("b1", b1);
        m.put("b2", b2);
        m.put("weight_decay", weightDecay);
        m.put("clip_gradient", clipGradient);
        m.put("bf16_momentum", bf16Momentum);
        m.put("accumulate_gradient_steps", accumulateGradientSteps);
        m.put("dtype", dtype);
        m.put("total_steps", totalSteps);
        m.put("log_freq", logFreq);
        m.put("eval_steps", evalSteps);
        m.put("save_model_freq", saveModelFreq);
        m.put("save_milestone_freq", saveMilestoneFreq);
        m.put("mesh_dim", meshDim);
        m.put("seed", seed);
        m.put("fcm_min_ratio", fcmMinRatio);
        m.put("fcm_max_ratio", fcmMaxRatio);
        m.put("remat", remat);
        m.put("remat_policy", rematPolicy);
        m.put("loss_chunk", lossChunk);
        m.put("attention_chunk", attentionChunk);
        m.put("no_cross_example_attention", noCrossExampleAttention);
        m.put("output_dir", outputDir.toString());
        return m;
    }

    /** Tokens one optimizer step consumes (both datasets' token slots). */
    public long tokensPerStep() {
        return (long) batchSize * seqLength * accumulateGradientSteps * (ptTrainData.isEmpty() ? 1 : 2);
    }

    /** A configuration from the defaults with {@code changes} applied, e.g. {@code TrainConfig.of(c -> c.totalSteps = 10)}. */
    public static TrainConfig of(Consumer<Builder> changes) {
        var b = new Builder();
        changes.accept(b);
        return b.build();
    }

    /** Options whose default depends on {@code optimizer}: {@link #optimizerDefault}. */
    public static final java.util.Set<String> BY_OPTIMIZER = java.util.Set.of("lr_warmup_steps", "b2");

    /**
     * The default of an option in {@link #BY_OPTIMIZER} for {@code optimizer}, as the original's
     * optimizer factories have them: adamw warms up 2000 steps with b2 0.95, palm 10000 with 0.99.
     */
    public static Object optimizerDefault(String optimizer, String key) {
        boolean palm = "palm".equals(optimizer);
        return switch (key) {
            case "lr_warmup_steps" -> palm ? 10000L : 2000L;
            case "b2" -> palm ? 0.99 : 0.95;
            default -> throw new IllegalArgumentException(key + " does not depend on the optimizer");
        };
    }

    /** The defaults: what {@code cohx train} uses for every option it is not given. */
    public static TrainConfig defaults() {
        return of(c -> {});
    }

    /** This configuration with {@code changes} applied. */
    public TrainConfig with(Consumer<Builder> changes) {
        var b = new Builder();
        b.model = model;
        b.modelConfig = modelConfig;
        b.updateModelConfig = updateModelConfig;
        b.loadCheckpoint = loadCheckpoint;
        b.tokenizer = tokenizer;
        b.trainData = trainData;
        b.evalData = evalData;
        b.ptTrainData = ptTrainData;
        b.ptEvalData = ptEvalData;
        b.ptTextField = ptTextField;
        b.seqLength = seqLength;
        b.batchSize = batchSize;
        b.ptLossWeight = ptLossWeight;
        b.optimizer = optimizer;
        b.lr = lr;
        b.initLr = initLr;
        b.endLr = endLr;
        b.lrWarmupSteps = lrWarmupSteps;
        b.lrDecaySteps = lrDecaySteps;
        b.b1 = b1;
        b.b2 = b2;
        b.weightDecay = weightDecay;
        b.clipGradient = clipGradient;
        b.bf16Momentum = bf16Momentum;
        b.accumulateGradientSteps = accumulateGradientSteps;
        b.dtype = dtype;
        b.totalSteps = totalSteps;
        b.logFreq = logFreq;
        b.evalSteps = evalSteps;
        b.saveModelFreq = saveModelFreq;
        b.saveMilestoneFreq = saveMilestoneFreq;
        b.meshDim = meshDim;
        b.seed = seed;
        b.fcmMinRatio = fcmMinRatio;
        b.fcmMaxRatio = fcmMaxRatio;
        b.remat = remat;
        b.rematPolicy = rematPolicy;
        b.lossChunk = lossChunk;
        b.attentionChunk = attentionChunk;
        b.outputDir = outputDir;
        b.resume = resume;
        b.noCrossExampleAttention = noCrossExampleAttention;
        changes.accept(b);
        return b.build();
    }

    /**
     * The one place the defaults are written (the original trainer's): a mutable, one-use form of
     * {@link TrainConfig} whose fields are named after the options. {@link #of} and {@link #with}
     * hand it to the caller, which sets what differs.
     */
    public static final class Builder {
        public String model = "llama";
        /** null: the config that comes with {@link #loadCheckpoint} (a GGUF file, hf:: folder, cohx checkpoint), else debug. */
        public String modelConfig = null;
        public String updateModelConfig = null;
        public String loadCheckpoint = null;
        public String tokenizer = null;
        public List<Path> trainData = List.of();
        public List<Path> evalData = List.of();
        public List<Path> ptTrainData = List.of();
        public List<Path> ptEvalData = List.of();
        public String ptTextField = "text";
        public int seqLength = 1024;
        public int batchSize = 8;
        public double ptLossWeight = 0.01;
        public String optimizer = "adamw";
        public double lr = 0.01;
        public double initLr = 0.0;
        public double endLr = 0.001;
        /** Null: the optimizer's ({@link #optimizerDefault}). */
        public Long lrWarmupSteps = null;
        public long lrDecaySteps = 500000;
        public double b1 = 0.9;
        /** Null: the optimizer's ({@link #optimizerDefault}). */
        public Double b2 = null;
        public double weightDecay = 1e-4;
        public double clipGradient = 1.0;
        public boolean bf16Momentum = false;
        public int accumulateGradientSteps = 1;
        public String dtype = "fp32";
        public long totalSteps = 10000;
        public long logFreq = 50;
        public long evalSteps = 0;
        public long saveModelFreq = 0;
        public long saveMilestoneFreq = 0;
        public String meshDim = "1,-1,1";
        public long seed = 42;
        public double fcmMinRatio = 0;
        public double fcmMaxRatio = 0;
        public boolean remat = false;
        /** Null: the model config's remat_policy when it asks for gradient checkpointing, else nothing_saveable. */
        public String rematPolicy = null;
        public int lossChunk = 0;
        public int attentionChunk = 0;
        public Path outputDir = Path.of("runs/train");
        public boolean resume = false;
        public boolean noCrossExampleAttention = false;

        private Builder() {}

        private TrainConfig build() {
            long lrWarmupSteps = this.lrWarmupSteps != null ? this.lrWarmupSteps : ((Number) optimizerDefault(optimizer, "lr_warmup_steps")).longValue();
            double b2 = this.b2 != null ? this.b2 : ((Number) optimizerDefault(optimizer, "b2")).doubleValue();
            return new TrainConfig(
                    model, modelConfig, updateModelConfig, loadCheckpoint, tokenizer, trainData, evalData, ptTrainData,
                    ptEvalData, ptTextField, seqLength, batchSize, ptLossWeight, optimizer, lr, initLr, endLr, lrWarmupSteps,
                    lrDecaySteps, b1, b2, weightDecay, clipGradient, bf16Momentum, accumulateGradientSteps, dtype, totalSteps,
                    logFreq, evalSteps, saveModelFreq, saveMilestoneFreq, meshDim, seed, fcmMinRatio, fcmMaxRatio, remat,
                    rematPolicy, lossChunk, attentionChunk, outputDir, resume, noCrossExampleAttention);
        }
    }
}
