package io.cohx.coh.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything one {@code cohx train} run is told, with the original trainer's defaults
 * (COH_SPEC.md §5). It is saved, resolved, with every checkpoint ({@link #toMap()}).
 *
 * @param model            {@code llama} or {@code gptj}
 * @param modelConfig      a preset name (debug, 7b, ...), a JSON / Hugging Face config.json / GGUF path, or null: the
 *                         config that comes with {@code loadCheckpoint} (debug for fresh weights)
 * @param updateModelConfig JSON object or {@code key=value,...} applied on top, or null
 * @param loadCheckpoint   {@code params::DIR}, {@code trainstate::DIR}, {@code trainstate_params::DIR}, {@code hf::DIR},
 *                         {@code gguf::FILE}, ..., or null
 * @param tokenizer        a tokenizer file/folder or a built-in name ({@code gpt2}, {@code gptj}), or null: the one
 *                         that comes with {@code loadCheckpoint}
 * @param trainData        CoH feedback JSONL files (from {@code cohx pack})
 * @param evalData         feedback eval files (may be empty)
 * @param ptTrainData      pretraining text JSONL files (may be empty: no pretraining loss)
 * @param ptEvalData       pretraining eval files (may be empty)
 * @param ptTextField      key of the text in pretraining records
 * @param remat            rematerialize each block in the backward pass (the original's "nothing_saveable")
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
        Path outputDir, boolean resume, boolean noCrossExampleAttention) {

    /** A configuration with the original trainer's packing (examples of a row attend to each other). */
    public TrainConfig(
            String model, String modelConfig, String updateModelConfig, String loadCheckpoint, String tokenizer,
            List<Path> trainData, List<Path> evalData, List<Path> ptTrainData, List<Path> ptEvalData, String ptTextField,
            int seqLength, int batchSize, double ptLossWeight,
            String optimizer, double lr, double initLr, double endLr, long lrWarmupSteps, long lrDecaySteps,
            double b1, double b2, double weightDecay, double clipGradient, boolean bf16Momentum, int accumulateGradientSteps,
            String dtype, long totalSteps, long logFreq, long evalSteps, long saveModelFreq, long saveMilestoneFreq,
            String meshDim, long seed, double fcmMinRatio, double fcmMaxRatio, boolean remat,
            Path outputDir, boolean resume) {
        this(model, modelConfig, updateModelConfig, loadCheckpoint, tokenizer, trainData, evalData, ptTrainData, ptEvalData,
                ptTextField, seqLength, batchSize, ptLossWeight, optimizer, lr, initLr, endLr, lrWarmupSteps, lrDecaySteps,
                b1, b2, weightDecay, clipGradient, bf16Momentum, accumulateGradientSteps, dtype, totalSteps, logFreq, evalSteps,
                saveModelFreq, saveMilestoneFreq, meshDim, seed, fcmMinRatio, fcmMaxRatio, remat, outputDir, resume, false);
    }

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
        m.put("no_cross_example_attention", noCrossExampleAttention);
        m.put("output_dir", outputDir.toString());
        return m;
    }

    /** Tokens one optimizer step consumes (both datasets' token slots). */
    public long tokensPerStep() {
        return (long) batchSize * seqLength * accumulateGradientSteps * (ptTrainData.isEmpty() ? 1 : 2);
    }
}
