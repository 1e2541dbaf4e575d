package io.cohx.cli;

import io.cohx.coh.train.TrainConfig;
import io.cohx.coh.train.DryRun;
import io.cohx.coh.train.Trainer;
import io.cohx.engine.dist.Coordination;
import io.cohx.engine.dist.ProcessGroup;
import io.cohx.pjrt.PjrtClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code cohx train}: Chain of Hindsight fine-tuning with the original trainer's flags and
 * defaults (docs/COH.md#optimizers). Any option can also come from {@code --config FILE.json}; flags win.
 * The defaults are {@link TrainConfig}'s own ({@link Defaults}), so help and runs cannot disagree.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false, defaultValueProvider = TrainCommand.Defaults.class,
        description = {"Fine-tune LLaMA or GPT-J with Chain of Hindsight on packed feedback data (cohx pack), optionally mixed with"
                + " pretraining text.", "Options can also come from --config FILE.json (keys = option names); flags override it."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "JSON file of option names and values.")
    Path config;

    @Option(names = "--model", description = "llama or gptj (default: ${DEFAULT-VALUE}).")
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
    @Option(names = "--pt-text-field", description = "Key of the text in pretraining records (default: ${DEFAULT-VALUE}).")
    String ptTextField;

    @Option(names = "--seq-length", description = "Tokens per sequence (default: ${DEFAULT-VALUE}).")
    int seqLength;
    @Option(names = "--batch-size", description = "Sequences per (micro-)batch (default: ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--pt-loss-weight", description = "Weight of the pretraining loss (default: ${DEFAULT-VALUE}).")
    double ptLossWeight;

    @Option(names = "--optimizer",
            description = "adamw (warmup + cosine decay) or palm (Adafactor-like, lr/sqrt(max(step, warmup)), scheduled decay) (default: ${DEFAULT-VALUE}).")
    String optimizer;
    @Option(names = "--lr", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--init-lr", description = "Learning rate at step 0 (default: ${DEFAULT-VALUE}).")
    double initLr;
    @Option(names = "--end-lr", description = "Learning rate after the decay (default: ${DEFAULT-VALUE}).")
    double endLr;
    @Option(names = "--lr-warmup-steps", description = "Warmup steps (default: 2000 for adamw, 10000 for palm).")
    Long lrWarmupSteps;
    @Option(names = "--lr-decay-steps", description = "Step where the cosine decay ends (default: ${DEFAULT-VALUE}).")
    long lrDecaySteps;
    @Option(names = "--b1", description = "Adam beta1 (default: ${DEFAULT-VALUE}).")
    double b1;
    @Option(names = "--b2", description = "Second-moment decay (default: 0.95 for adamw, 0.99 for palm).")
    Double b2;
    @Option(names = "--weight-decay", description = "Decoupled weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;
    @Option(names = "--clip-gradient", description = "Global-norm gradient clipping (default: ${DEFAULT-VALUE}).")
    double clipGradient;
    @Option(names = "--bf16-momentum", description = "Keep Adam's first moment in bf16.")
    boolean bf16Momentum;
    @Option(names = "--accumulate-gradient-steps", description = "Micro-batches per update (default: ${DEFAULT-VALUE}).")
    int accumulateGradientSteps;

    @Option(names = "--dtype", description = "Compute dtype: fp32 or bf16 (fp16 would need loss scaling); params stay fp32 (default: ${DEFAULT-VALUE}).")
    String dtype;
    @Option(names = "--total-steps", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    long totalSteps;
    @Option(names = "--log-freq", description = "Log (and evaluate) every N steps (default: ${DEFAULT-VALUE}).")
    long logFreq;
    @Option(names = "--eval-steps", description = "Eval batches per evaluation; 0 = no eval (default: ${DEFAULT-VALUE}).")
    long evalSteps;
    @Option(names = "--save-model-freq", description = "Checkpoint every N steps (rolling); 0 = only at the end (default: ${DEFAULT-VALUE}).")
    long saveModelFreq;
    @Option(names = "--save-milestone-freq", description = "Keep a milestone checkpoint every N steps; 0 = none (default: ${DEFAULT-VALUE}).")
    long saveMilestoneFreq;
    @Option(names = "--mesh-dim", description = "Device mesh dp,fsdp,mp; one -1 is inferred (default: ${DEFAULT-VALUE}).")
    String meshDim;
    @Option(names = "--seed", description = "Seed of initialization, dropout and FCM (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--fcm-min-ratio", description = "Forgetful causal mask, minimum ratio (default: ${DEFAULT-VALUE}).")
    double fcmMinRatio;
    @Option(names = "--fcm-max-ratio", description = "Forgetful causal mask, maximum ratio; 0 = off (default: ${DEFAULT-VALUE}).")
    double fcmMaxRatio;
    @Option(names = "--remat", description = "Recompute each block in the backward pass (less memory, more compute).")
    boolean remat;
    @Option(names = "--remat-policy", paramLabel = "POLICY", description = {"What a recomputed block keeps for the backward pass:"
            + " nothing_saveable, dots_saveable, dots_with_no_batch_dims_saveable or everything_saveable (docs/MEMORY.md); turns"
            + " --remat on. Default: the model config's remat_policy when its gradient_checkpointing is on, else nothing_saveable."})
    String rematPolicy;
    @Option(names = "--loss-chunk", paramLabel = "N", description = {"Make the loss N positions at a time, so the f32 batch x seq x vocab"
            + " logits and their gradient never exist whole; same loss and gradients, less memory, somewhat slower. N divides"
            + " --seq-length; 0 = all at once (default: ${DEFAULT-VALUE})."})
    int lossChunk;
    @Option(names = "--attention-chunk", paramLabel = "N", description = {"Make attention N queries at a time (scores of N x seq"
            + " instead of seq x seq per head; the backward recomputes them); same result, less memory. N divides --seq-length;"
            + " 0 = all at once (default: ${DEFAULT-VALUE})."})
    int attentionChunk;
    @Option(names = "--no-cross-example-attention", description = {"Examples packed into one row attend only to themselves, with"
            + " positions restarting at each (a block-diagonal causal mask from the packer's segment ids). Default: the original"
            + " trainer's causal mask over the whole row."})
    boolean noCrossExampleAttention;
    @Option(names = "--output-dir", description = "Where metrics, TensorBoard files, checkpoints and the plot go (default: ${DEFAULT-VALUE}).")
    Path outputDir;
    @Option(names = "--resume", description = "Continue the run in --output-dir from its latest checkpoint.")
    boolean resume;
    @Option(names = "--dry-run", description = "Compile the train step for this model, batch and mesh, print per-device memory, train nothing.")
    boolean dryRun;
    @Option(names = "--device-memory", paramLabel = "SIZE", description = {"With --dry-run: memory of one device (e.g. 16GiB, 80GB) to check"
            + " the fit against. Default: for CPU devices their share of the host's memory."})
    String deviceMemory;
    @Option(names = "--dry-run-full", description = {"With --dry-run: compile every layer instead of compiling 1 and 2 layers and"
            + " extrapolating (minutes for billions of parameters)."})
    boolean dryRunFull;

    @Mixin
    PlatformOptions platform;

    @Mixin
    ProcessOptions processes;

    TrainConfig toConfig() {
        if (trainData.isEmpty()) {
            throw new CohxUserError("--train-data is required: a CoH feedback JSONL made by cohx pack (or run cohx demo)");
        }
        // A dry run without one takes bos from the model config; --load-checkpoint and --resume bring their tokenizer
        // (a GGUF file's vocabulary, an hf:: folder's files, a checkpoint that keeps one; ModelSetup.tokenizer says when not).
        if (tokenizer == null && !model.equals("gptj") && !dryRun && loadCheckpoint == null && !resume) {
            throw new CohxUserError("--tokenizer is required for llama: the tokenizer.model of your LLaMA weights");
        }
        String tok = tokenizer == null && model.equals("gptj") ? "gptj" : tokenizer;
        return TrainConfig.of(c -> {
            c.model = model;
            c.modelConfig = modelConfig;
            c.updateModelConfig = updateModelConfig;
            c.loadCheckpoint = loadCheckpoint;
            c.tokenizer = tok;
            c.trainData = trainData;
            c.evalData = evalData;
            c.ptTrainData = ptTrainData;
            c.ptEvalData = ptEvalData;
            c.ptTextField = ptTextField;
            c.seqLength = seqLength;
            c.batchSize = batchSize;
            c.ptLossWeight = ptLossWeight;
            c.optimizer = optimizer;
            c.lr = lr;
            c.initLr = initLr;
            c.endLr = endLr;
            c.lrWarmupSteps = lrWarmupSteps;
            c.lrDecaySteps = lrDecaySteps;
            c.b1 = b1;
            c.b2 = b2;
            c.weightDecay = weightDecay;
            c.clipGradient = clipGradient;
            c.bf16Momentum = bf16Momentum;
            c.accumulateGradientSteps = accumulateGradientSteps;
            c.dtype = dtype;
            c.totalSteps = totalSteps;
            c.logFreq = logFreq;
            c.evalSteps = evalSteps;
            c.saveModelFreq = saveModelFreq;
            c.saveMilestoneFreq = saveMilestoneFreq;
            c.meshDim = meshDim;
            c.seed = seed;
            c.fcmMinRatio = fcmMinRatio;
            c.fcmMaxRatio = fcmMaxRatio;
            c.remat = remat;
            c.rematPolicy = rematPolicy;
            c.lossChunk = lossChunk;
            c.attentionChunk = attentionChunk;
            c.outputDir = outputDir;
            c.resume = resume;
            c.noCrossExampleAttention = noCrossExampleAttention;
        });
    }

    /**
     * Option defaults from {@link TrainConfig#defaults()}: option {@code --total-steps} takes the
     * default of key {@code total_steps}. Options that are not TrainConfig keys (--config,
     * --dry-run, the platform's) keep their own.
     */
    static final class Defaults implements IDefaultValueProvider {
        private static final Map<String, Object> DEFAULTS = TrainConfig.defaults().toMap();

        @Override
        public String defaultValue(ArgSpec arg) {
            if (!(arg instanceof OptionSpec o)) {
                return null;
            }
            String key = o.longestName().replaceFirst("^--", "").replace('-', '_');
            if (TrainConfig.BY_OPTIMIZER.contains(key)) {
                return null; // null in the builder: the chosen optimizer's default
            }
            Object v = DEFAULTS.get(key);
            return switch (v) {
                case null -> null;
                case List<?> l -> null; // repeatable options start empty
                case Double d -> new BigDecimal(d.toString()).stripTrailingZeros().toPlainString(); // 0.0001, not 1.0E-4
                default -> v.toString();
            };
        }
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
        long bytes;
        try {
            bytes = deviceMemory == null ? 0 : DryRun.parseSize(deviceMemory, "--device-memory");
        } catch (IllegalArgumentException e) {
            throw new CohxUserError(e.getMessage());
        }
        // A multi-process run meets first (process 0 serves the coordinator), then creates the
        // client with the coordinator as the plugin's store. A dry run plans on this host alone.
        ProcessGroup group = dryRun ? ProcessGroup.SINGLE : processes.group();
        Coordination peers = group.multiProcess() ? ProcessOptions.join(group, processes.timeout(), System.err) : null;
        PrintStream out = processes.output(group, cfg.outputDir(), System.out);
        PjrtClient client;
        try {
            client = platform.client(platform.cpuDevicesFor(meshDim), peers);
        } catch (RuntimeException e) {
            if (!dryRun) {
                if (peers != null) {
                    peers.close();
                }
                throw e;
            }
            // A GPU or TPU that is not here: plan from shapes alone.
            out.println(Trainer.estimateOnly(cfg, out, bytes, e.getMessage()).table(Map.of()));
            return 0;
        }
        try (peers; client) {
            if (dryRun) {
                var trainer = new Trainer(cfg, client, out);
                out.println(trainer.dryRun(bytes, dryRunFull).table(trainer.dryRunGroups()));
                return 0;
            }
            new Trainer(cfg, client, out, peers).run();
            if (peers != null) {
                peers.finish(processes.timeout());
            }
        }
        return 0;
    }
}
