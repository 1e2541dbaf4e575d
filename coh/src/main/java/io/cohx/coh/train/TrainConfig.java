package io.cohx.coh.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything one {@code cohx train} run is told. The original trainer's defaults (COH_SPEC.md §5)
 * are written once, in {@link Builder}: start from {@link #builder()} and name what differs. It is
 * saved, resolved, with every checkpoint ({@link #toMap()}, keyed by the option names in snake_case).
 *
 * @param model            {@code llama} or {@code gptj}
 * @param modelConfig      a preset name (debug, 7b, ...) or a JSON / Hugging Face config.json path
 * @param updateModelConfig JSON object or {@code key=value,...} applied on top, or null
 * @param loadCheckpoint   {@code params::DIR}, {@code trainstate::DIR}, {@code trainstate_params::DIR}, {@code hf::DIR}, or null
 * @param tokenizer        a tokenizer file/folder or a built-in name ({@code gpt2}, {@code gptj}); may be null in a dry run
 * @param trainData        CoH feedback JSONL files (from {@code cohx pack})
 * @param evalData         feedback eval files (may be empty)
 * @param ptTrainData      pretraining text JSONL files (may be empty: no pretraining loss)
 * @param ptEvalData       pretraining eval files (may be empty)
 * @param ptTextField      key of the text in pretraining records
 * @param remat            rematerialize each block in the backward pass (the original's "nothing_saveable")
 */
public record TrainConfig(
        String model, String modelConfig, String updateModelConfig, String loadCheckpoint, String tokenizer,
        List<Path> trainData, List<Path> evalData, List<Path> ptTrainData, List<Path> ptEvalData, String ptTextField,
        int seqLength, int batchSize, double ptLossWeight,
        String optimizer, double lr, double initLr, double endLr, long lrWarmupSteps, long lrDecaySteps,
        double b1, double b2, double weightDecay, double clipGradient, boolean bf16Momentum, int accumulateGradientSteps,
        String dtype, long totalSteps, long logFreq, long evalSteps, long saveModelFreq, long saveMilestoneFreq,
        String meshDim, long seed, double fcmMinRatio, double fcmMaxRatio, boolean remat,
        Path outputDir, boolean resume) {

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
        m.put("output_dir", outputDir.toString());
        return m;
    }

    /** Tokens one optimizer step consumes (both datasets' token slots). */
    public long tokensPerStep() {
        return (long) batchSize * seqLength * accumulateGradientSteps * (ptTrainData.isEmpty() ? 1 : 2);
    }

    /** A builder holding the defaults (those of the original trainer); set only what differs. */
    public static Builder builder() {
        return new Builder();
    }

    /** The defaults: what {@code cohx train} uses for every option it is not given. */
    public static TrainConfig defaults() {
        return builder().build();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
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
        b.outputDir = outputDir;
        b.resume = resume;
        return b;
    }

    /**
     * Named construction of a {@link TrainConfig}, and the one place its defaults are written:
     * each setter is named after its option, and what is not set keeps its default.
     */
    public static final class Builder {
        private String model = "llama";
        private String modelConfig = "debug";
        private String updateModelConfig = null;
        private String loadCheckpoint = null;
        private String tokenizer = null;
        private List<Path> trainData = List.of();
        private List<Path> evalData = List.of();
        private List<Path> ptTrainData = List.of();
        private List<Path> ptEvalData = List.of();
        private String ptTextField = "text";
        private int seqLength = 1024;
        private int batchSize = 8;
        private double ptLossWeight = 0.01;
        private String optimizer = "adamw";
        private double lr = 0.01;
        private double initLr = 0.0;
        private double endLr = 0.001;
        private long lrWarmupSteps = 2000;
        private long lrDecaySteps = 500000;
        private double b1 = 0.9;
        private double b2 = 0.95;
        private double weightDecay = 1e-4;
        private double clipGradient = 1.0;
        private boolean bf16Momentum = false;
        private int accumulateGradientSteps = 1;
        private String dtype = "fp32";
        private long totalSteps = 10000;
        private long logFreq = 50;
        private long evalSteps = 0;
        private long saveModelFreq = 0;
        private long saveMilestoneFreq = 0;
        private String meshDim = "1,-1,1";
        private long seed = 42;
        private double fcmMinRatio = 0;
        private double fcmMaxRatio = 0;
        private boolean remat = false;
        private Path outputDir = Path.of("runs/train");
        private boolean resume = false;

        private Builder() {}

        public Builder model(String v) {
            model = v;
            return this;
        }

        public Builder modelConfig(String v) {
            modelConfig = v;
            return this;
        }

        public Builder updateModelConfig(String v) {
            updateModelConfig = v;
            return this;
        }

        public Builder loadCheckpoint(String v) {
            loadCheckpoint = v;
            return this;
        }

        public Builder tokenizer(String v) {
            tokenizer = v;
            return this;
        }

        public Builder trainData(List<Path> v) {
            trainData = v;
            return this;
        }

        public Builder evalData(List<Path> v) {
            evalData = v;
            return this;
        }

        public Builder ptTrainData(List<Path> v) {
            ptTrainData = v;
            return this;
        }

        public Builder ptEvalData(List<Path> v) {
            ptEvalData = v;
            return this;
        }

        public Builder ptTextField(String v) {
            ptTextField = v;
            return this;
        }

        public Builder seqLength(int v) {
            seqLength = v;
            return this;
        }

        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        public Builder ptLossWeight(double v) {
            ptLossWeight = v;
            return this;
        }

        public Builder optimizer(String v) {
            optimizer = v;
            return this;
        }

        public Builder lr(double v) {
            lr = v;
            return this;
        }

        public Builder initLr(double v) {
            initLr = v;
            return this;
        }

        public Builder endLr(double v) {
            endLr = v;
            return this;
        }

        public Builder lrWarmupSteps(long v) {
            lrWarmupSteps = v;
            return this;
        }

        public Builder lrDecaySteps(long v) {
            lrDecaySteps = v;
            return this;
        }

        public Builder b1(double v) {
            b1 = v;
            return this;
        }

        public Builder b2(double v) {
            b2 = v;
            return this;
        }

        public Builder weightDecay(double v) {
            weightDecay = v;
            return this;
        }

        public Builder clipGradient(double v) {
            clipGradient = v;
            return this;
        }

        public Builder bf16Momentum(boolean v) {
            bf16Momentum = v;
            return this;
        }

        public Builder accumulateGradientSteps(int v) {
            accumulateGradientSteps = v;
            return this;
        }

        public Builder dtype(String v) {
            dtype = v;
            return this;
        }

        public Builder totalSteps(long v) {
            totalSteps = v;
            return this;
        }

        public Builder logFreq(long v) {
            logFreq = v;
            return this;
        }

        public Builder evalSteps(long v) {
            evalSteps = v;
            return this;
        }

        public Builder saveModelFreq(long v) {
            saveModelFreq = v;
            return this;
        }

        public Builder saveMilestoneFreq(long v) {
            saveMilestoneFreq = v;
            return this;
        }

        public Builder meshDim(String v) {
            meshDim = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder fcmMinRatio(double v) {
            fcmMinRatio = v;
            return this;
        }

        public Builder fcmMaxRatio(double v) {
            fcmMaxRatio = v;
            return this;
        }

        public Builder remat(boolean v) {
            remat = v;
            return this;
        }

        public Builder outputDir(Path v) {
            outputDir = v;
            return this;
        }

        public Builder resume(boolean v) {
            resume = v;
            return this;
        }

        public TrainConfig build() {
            return new TrainConfig(
                    model, modelConfig, updateModelConfig, loadCheckpoint, tokenizer, trainData, evalData, ptTrainData,
                    ptEvalData, ptTextField, seqLength, batchSize, ptLossWeight, optimizer, lr, initLr, endLr, lrWarmupSteps,
                    lrDecaySteps, b1, b2, weightDecay, clipGradient, bf16Momentum, accumulateGradientSteps, dtype, totalSteps,
                    logFreq, evalSteps, saveModelFreq, saveMilestoneFreq, meshDim, seed, fcmMinRatio, fcmMaxRatio, remat,
                    outputDir, resume);
        }
    }
}
