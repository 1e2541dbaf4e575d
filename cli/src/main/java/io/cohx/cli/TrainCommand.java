package io.cohx.cli;

import io.cohx.coh.train.TrainConfig;
import io.cohx.coh.train.Trainer;
import io.cohx.pjrt.PjrtClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code cohx train}: Chain of Hindsight fine-tuning with the original trainer's flags and
 * defaults (COH_SPEC.md §5). Any option can also come from {@code --config FILE.json}; flags win.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tune LLaMA or GPT-J with Chain of Hindsight on packed feedback data (cohx pack), optionally mixed with"
                + " pretraining text.", "Options can also come from --config FILE.json (keys = option names); flags override it."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "JSON file of option names and values.")
    Path config;

    @Option(names = "--model", defaultValue = "llama", description = "llama or gptj (default: ${DEFAULT-VALUE}).")
    String model;
    @Option(names = "--model-config", paramLabel = "PRESET|FILE",
            description = "Preset (llama: debug, 3b, 7b, 13b, 30b, 65b; gptj: debug, 6b) or a config JSON / HF config.json / GGUF file "
                    + "(default: the config that comes with --load-checkpoint gguf::, hf:: or a cohx checkpoint; else debug).")
    String modelConfig;
    @Option(names = "--update-model-config", paramLabel = "JSON|K=V,...", description = "Changes to the model config, e.g. vocab_size=50257.")
    String updateModelConfig;
    @Option(names = "--load-checkpoint", paramLabel = "KIND::PATH",
            description = "Start from params::DIR, trainstate::DIR, trainstate_params::DIR (cohx checkpoints), hf::DIR (Hugging Face folder), meta::DIR (Meta .pth), streaming::FILE (original CoH/EasyLM) or gguf::FILE (llama.cpp GGUF: config, weights and tokenizer).")
    String loadCheckpoint;
    @Option(names = "--tokenizer", paramLabel = "FILE|NAME", description = "tokenizer.model / tokenizer.json / folder, or gpt2, gptj "
            + "(default: the one that comes with --load-checkpoint: a GGUF file's vocabulary, a checkpoint that keeps one, an hf:: "
            + "folder's tokenizer files; gptj for gptj).")
    String tokenizer;

    @Option(names = "--train-data", paramLabel = "FILE", description = "CoH feedback JSONL (from cohx pack); repeatable.")
    List<Path> trainData = new ArrayList<>();
    @Option(names = "--eval-data", paramLabel = "FILE", description = "Feedback eval JSONL; repeatable.")
    List<Path> evalData = new ArrayList<>();
    @Option(names = "--pt-train-data", paramLabel = "FILE", description = "Pretraining text JSONL(.gz); repeatable. None: no pretraining loss.")
    List<Path> ptTrainData = new ArrayList<>();
    @Option(names = "--pt-eval-data", paramLabel = "FILE", description = "Pretraining eval JSONL; repeatable.")
    List<Path> ptEvalData = new ArrayList<>();
    @Option(names = "--pt-text-field", defaultValue = "text", description = "Key of the text in pretraining records (default: ${DEFAULT-VALUE}).")
    String ptTextField;

    @Option(names = "--seq-length", defaultValue = "1024", description = "Tokens per sequence (default: ${DEFAULT-VALUE}).")
    int seqLength;
    @Option(names = "--batch-size", defaultValue = "8", description = "Sequences per (micro-)batch (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--pt-loss-weight", defaultValue = "0.01", description = "Weight of the pretraining loss (default: ${DEFAULT-VALUE}).")
    double ptLossWeight;

    @Option(names = "--optimizer", defaultValue = "adamw",
            description = "adamw (warmup + cosine decay) or palm (Adafactor-like, lr/sqrt(max(step, warmup)), scheduled decay) (default: ${DEFAULT-VALUE}).")
    String optimizer;
    @Option(names = "--lr", defaultValue = "0.01", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--init-lr", defaultValue = "0.0", description = "Learning rate at step 0 (default: ${DEFAULT-VALUE}).")
    double initLr;
    @Option(names = "--end-lr", defaultValue = "0.001", description = "Learning rate after the decay (default: ${DEFAULT-VALUE}).")
    double endLr;
    @Option(names = "--lr-warmup-steps", defaultValue = "2000", description = "Linear warmup steps (default: ${DEFAULT-VALUE}).")
    long lrWarmupSteps;
    @Option(names = "--lr-decay-steps", defaultValue = "500000", description = "Step where the cosine decay ends (default: ${DEFAULT-VALUE}).")
    long lrDecaySteps;
    @Option(names = "--b1", defaultValue = "0.9", description = "Adam beta1 (default: ${DEFAULT-VALUE}).")
    double b1;
    @Option(names = "--b2", defaultValue = "0.95", description = "Adam beta2 (default: ${DEFAULT-VALUE}).")
    double b2;
    @Option(names = "--weight-decay", defaultValue = "1e-4", description = "Decoupled weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;
    @Option(names = "--clip-gradient", defaultValue = "1.0", description = "Global-norm gradient clipping (default: ${DEFAULT-VALUE}).")
    double clipGradient;
    @Option(names = "--bf16-momentum", description = "Keep Adam's first moment in bf16.")
    boolean bf16Momentum;
    @Option(names = "--accumulate-gradient-steps", defaultValue = "1", description = "Micro-batches per update (default: ${DEFAULT-VALUE}).")
    int accumulateGradientSteps;

    @Option(names = "--dtype", defaultValue = "fp32", description = "Compute dtype: fp32, bf16, fp16; params stay fp32 (default: ${DEFAULT-VALUE}).")
    String dtype;
    @Option(names = "--total-steps", defaultValue = "10000", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    long totalSteps;
    @Option(names = "--log-freq", defaultValue = "50", description = "Log (and evaluate) every N steps (default: ${DEFAULT-VALUE}).")
    long logFreq;
    @Option(names = "--eval-steps", defaultValue = "0", description = "Eval batches per evaluation; 0 = no eval (default: ${DEFAULT-VALUE}).")
    long evalSteps;
    @Option(names = "--save-model-freq", defaultValue = "0", description = "Checkpoint every N steps (rolling); 0 = only at the end (default: ${DEFAULT-VALUE}).")
    long saveModelFreq;
    @Option(names = "--save-milestone-freq", defaultValue = "0", description = "Keep a milestone checkpoint every N steps; 0 = none (default: ${DEFAULT-VALUE}).")
    long saveMilestoneFreq;
    @Option(names = "--mesh-dim", defaultValue = "1,-1,1", description = "Device mesh dp,fsdp,mp; one -1 is inferred (default: ${DEFAULT-VALUE}).")
    String meshDim;
    @Option(names = "--seed", defaultValue = "42", description = "Seed of initialization, dropout and FCM (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--fcm-min-ratio", defaultValue = "0", description = "Forgetful causal mask, minimum ratio (default: ${DEFAULT-VALUE}).")
    double fcmMinRatio;
    @Option(names = "--fcm-max-ratio", defaultValue = "0", description = "Forgetful causal mask, maximum ratio; 0 = off (default: ${DEFAULT-VALUE}).")
    double fcmMaxRatio;
    @Option(names = "--remat", description = "Recompute each block in the backward pass (less memory, more compute).")
    boolean remat;
    @Option(names = "--no-cross-example-attention", description = {"Examples packed into one row attend only to themselves, with"
            + " positions restarting at each (a block-diagonal causal mask from the packer's segment ids). Default: the original"
            + " trainer's causal mask over the whole row."})
    boolean noCrossExampleAttention;
    @Option(names = "--output-dir", defaultValue = "runs/train", description = "Where metrics, TensorBoard files, checkpoints and the plot go (default: ${DEFAULT-VALUE}).")
    Path outputDir;
    @Option(names = "--resume", description = "Continue the run in --output-dir from its latest checkpoint.")
    boolean resume;
    @Option(names = "--dry-run", description = "Compile the train step for this model, batch and mesh, print per-device memory, train nothing.")
    boolean dryRun;

    @Mixin
    PlatformOptions platform;

    TrainConfig toConfig() {
        if (trainData.isEmpty()) {
            throw new CohxUserError("--train-data is required: a CoH feedback JSONL made by cohx pack (or run cohx demo)");
        }
        String tok = tokenizer;
        if (tok == null) {
            if (model.equals("gptj")) {
                tok = "gptj";
            } else if (dryRun) {
                tok = "gpt2"; // not read by a dry run
            } else if (loadCheckpoint == null && !resume) {
                throw new CohxUserError("--tokenizer is required for llama: the tokenizer.model of your LLaMA weights");
            }
        }
        return new TrainConfig(model, modelConfig, updateModelConfig, loadCheckpoint, tok, trainData, evalData, ptTrainData, ptEvalData,
                ptTextField, seqLength, batchSize, ptLossWeight, optimizer, lr, initLr, endLr, lrWarmupSteps, lrDecaySteps, b1, b2,
                weightDecay, clipGradient, bf16Momentum, accumulateGradientSteps, dtype, totalSteps, logFreq, evalSteps, saveModelFreq,
                saveMilestoneFreq, meshDim, seed, fcmMinRatio, fcmMaxRatio, remat, outputDir, resume, noCrossExampleAttention);
    }

    @Override
    public Integer call() throws Exception {
        if (dryRun && trainData.isEmpty()) {
            trainData = List.of(Path.of("(dry-run)"));
        }
        TrainConfig cfg = toConfig();
        if (!dryRun) {
            Validation.check(cfg);
        }
        try (PjrtClient client = platform.client(platform.cpuDevicesFor(meshDim))) {
            if (dryRun) {
                System.out.println(new Trainer(cfg, client, System.out).dryRun());
                return 0;
            }
            new Trainer(cfg, client, System.out).run();
        }
        return 0;
    }
}
