package io.cohx.coh.train;

import io.cohx.coh.data.DataPosition;
import io.cohx.coh.data.PackedBatch;
import io.cohx.coh.data.PackedBatches;
import io.cohx.coh.data.TextProcessor;
import io.cohx.coh.observe.LossPlot;
import io.cohx.coh.observe.MetricsLog;
import io.cohx.coh.observe.ProgressLine;
import io.cohx.coh.observe.TensorBoardWriter;
import io.cohx.engine.ArrayType;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.engine.mesh.Mesh;
import io.cohx.engine.optim.Optimizer;
import io.cohx.engine.optim.LrSchedule;
import io.cohx.models.CausalLm;
import io.cohx.models.checkpoint.AtomicFiles;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.tokenizer.BundledTokenizer;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.models.tokenizer.Tokenizers;
import io.cohx.pjrt.PjrtClient;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Chain of Hindsight training loop (COH_SPEC.md §5): read the CoH feedback batches (and the
 * pretraining batches), run one compiled step per optimizer update, log, evaluate, checkpoint,
 * resume. {@link #run()} reads top to bottom; everything else hangs off it.
 */
public final class Trainer {
    private final TrainConfig cfg;
    private final PjrtClient client;
    private final PrintStream out;
    /** The vocabulary and chat template the starting weights came with, kept in every checkpoint (null: none). */
    private BundledTokenizer bundledTokenizer;

    /** What a finished run leaves. */
    public record Result(long step, Path checkpoint, Map<String, Double> lastMetrics, boolean stoppedBySignal) {}

    public Trainer(TrainConfig cfg, PjrtClient client, PrintStream out) {
        this.cfg = cfg;
        this.client = client;
        this.out = out;
    }

    public Result run() throws IOException {
        return run(null);
    }

    /** Runs; {@code stopAfterStep} (tests) stops as a signal would after that many steps. */
    public Result run(Long stopAfterStep) throws IOException {
        Files.createDirectories(cfg.outputDir());
        for (Path leftover : TrainCheckpoint.removeLeftovers(cfg.outputDir())) {
            out.println("removed " + leftover + ": a checkpoint save that was interrupted");
        }
        // ---- what to start from: a resumed run, a loaded checkpoint, or fresh parameters ----
        TrainCheckpoint.Loaded resumed = cfg.resume() ? resumeState() : trainStateToLoad();
        if (!cfg.resume() && TrainCheckpoint.latest(cfg.outputDir()) != null) {
            throw new TrainingException(cfg.outputDir() + " already holds a training run (checkpoints/LATEST); continue it with --resume"
                    + " or choose another --output-dir");
        }
        ModelConfig modelConfig = resumed != null ? resumed.config() : ModelSetup.modelConfig(cfg);
        if (cfg.tokenizer() == null) {
            throw new TrainingException("no tokenizer: name one with --tokenizer (a tokenizer.model / tokenizer.json, or gpt2, gptj)");
        }
        bundledTokenizer = ModelSetup.bundledTokenizer(cfg, resumed);
        Tokenizer tokenizer = Tokenizers.load(cfg.tokenizer());
        Setup setup = setup(modelConfig, tokenizer);
        CausalLm model = setup.model();
        Optimizer optimizer = setup.optimizer();
        TrainStep program = setup.step();
        LrSchedule schedule = ModelSetup.schedule(cfg);
        boolean pretraining = setup.pretraining();
        AtomicFiles.writeString(cfg.outputDir().resolve("config.json"), ModelConfigs.toJson(resolvedConfig(modelConfig)));

        long start = 0;
        Tree<Object> params;
        Tree<Object> opt;
        DataPosition hfPos = null, ptPos = null;
        if (resumed != null) {
            start = resumed.step();
            params = resumed.params().map(x -> x);
            opt = resumed.optState().map(x -> x);
            if (cfg.resume()) { // a trainstate:: load keeps the step but starts the (new) data from the top
                hfPos = position(resumed.extra(), StepIo.Dataset.FEEDBACK);
                ptPos = position(resumed.extra(), StepIo.Dataset.PRETRAINING);
            }
            ModelSetup.checkShapes(model.paramTypes(), resumed.params(), resumed.dir());
            out.println((cfg.resume() ? "resuming from " : "loaded train state ") + resumed.dir() + " at step " + start);
        } else {
            params = ModelSetup.initialParams(cfg, model, program, client, out,
                    b -> onMesh(b, Mesh.parse(cfg.meshDim(), client.addressableDevices()), model));
            opt = optimizer.init(model.paramTypes()).map(x -> x);
        }

        Mesh mesh = Mesh.parse(cfg.meshDim(), client.addressableDevices());
        checkBatchFits(mesh);
        try (Jit step = compileStep(setup, mesh);
             Jit eval = onMesh(Jit.builder("eval_step", program.evalFunction()), mesh, model).build(client);
             PackedBatches hf = batches(cfg.trainData(), tokenizer, false, hfPos);
             PackedBatches pt = pretraining ? batches(cfg.ptTrainData(), tokenizer, true, ptPos) : null;
             Prefetcher data = new Prefetcher(hf, pt, cfg.accumulateGradientSteps());
             MetricsLog metrics = new MetricsLog(cfg.outputDir(), cfg.resume() ? start : 0);
             TensorBoardWriter tb = new TensorBoardWriter(cfg.outputDir().resolve("tensorboard"));
             StopSignal stop = new StopSignal()) {
            var progress = new ProgressLine(out, ProgressLine.isTerminal(out), start, cfg.totalSteps());
            Map<String, Double> last = Map.of();
            Path checkpoint = resumed != null ? resumed.dir() : null;
            long tokens = 0;
            long stepNo = start;
            DataPosition lastHf = hfPos, lastPt = ptPos;
            out.println("training " + modelConfig.modelType() + " (" + model.paramTypes().size() + " tensors, "
                    + ModelSetup.parameterCount(model) + " parameters) for " + (cfg.totalSteps() - start) + " steps; output in " + cfg.outputDir());
            // ---------------------------------- the loop ----------------------------------
            while (stepNo < cfg.totalSteps() && !stop.requested()) {
                Prefetcher.Item batch = data.next();
                double lr = schedule.at(stepNo);
                var in = new StepIo.Inputs<Object>(params, opt, batch.hf(), batch.pt(), NdArray.scalar(DType.F32, lr),
                        NdArray.scalar(DType.S32, stepNo));
                StepIo.Outputs<DeviceArray> result = StepIo.Outputs.from(step.call(in.toTree()));
                params = result.params().map(x -> x);
                opt = result.opt().map(x -> x);
                last = readMetrics(result.metrics(), lr, stepNo + 1, checkpoint);
                stepNo++;
                tokens += cfg.tokensPerStep();
                lastHf = batch.hfPosition();
                lastPt = batch.ptPosition();

                if (stepNo % cfg.logFreq() == 0 || stepNo == cfg.totalSteps()) {
                    metrics.log(stepNo, "train", last);
                    tb.scalars(stepNo, last);
                    progress.report(stepNo, shown(last, pretraining), tokens);
                    if (cfg.evalSteps() > 0) {
                        Map<String, Double> ev = evaluate(eval, params, tokenizer);
                        metrics.log(stepNo, "eval", ev);
                        tb.scalars(stepNo, prefixed("eval_", ev));
                    }
                }
                if (cfg.saveMilestoneFreq() > 0 && stepNo % cfg.saveMilestoneFreq() == 0) {
                    checkpoint = save("milestone_" + stepNo, modelConfig, stepNo, params, opt, lastHf, lastPt);
                }
                if (cfg.saveModelFreq() > 0 && stepNo % cfg.saveModelFreq() == 0) {
                    checkpoint = save("step_" + stepNo, modelConfig, stepNo, params, opt, lastHf, lastPt);
                }
                if (stopAfterStep != null && stepNo >= stopAfterStep) {
                    stop.request();
                }
            }
            progress.finish();
            boolean signalled = stop.requested() && stepNo < cfg.totalSteps();
            if (checkpoint == null || !checkpoint.getFileName().toString().endsWith("_" + stepNo)) {
                checkpoint = save("step_" + stepNo, modelConfig, stepNo, params, opt, lastHf, lastPt);
            }
            out.println((signalled ? "stopped at step " : "finished at step ") + stepNo + "; checkpoint " + checkpoint);
            writePlot();
            stop.finished();
            closeAll(params);
            closeAll(opt);
            return new Result(stepNo, checkpoint, last, signalled);
        }
    }

    /** The run's layout over the mesh ({@link StepIo#layout}); one device: no annotations. */
    static Jit.Builder onMesh(Jit.Builder b, Mesh mesh, CausalLm model) {
        if (mesh.size() == 1) {
            return b;
        }
        model.checkMesh(mesh);
        return b.mesh(mesh, path -> StepIo.layout(path, model), path -> StepIo.layout(path, model));
    }

    /**
     * What a run compiles, made by {@link #setup} the same way for a run and a dry run.
     *
     * @param pretraining whether the step gets a pretraining batch
     */
    record Setup(ModelConfig config, CausalLm model, Optimizer optimizer, TrainStep step, boolean pretraining) {}

    /**
     * The model, optimizer and train step of this configuration. {@code tokenizer} (null in a dry
     * run that names none) must fit the model's vocabulary and gives the sequences' bos token;
     * without one, the model config's bos_token_id. Remat is on when --remat or the model config's
     * gradient_checkpointing asks for it.
     */
    Setup setup(ModelConfig mc, Tokenizer tokenizer) {
        CausalLm model = CausalLm.of(mc);
        Optimizer optimizer = ModelSetup.optimizer(cfg, model);
        if (tokenizer != null) {
            ModelSetup.checkVocab(tokenizer, mc, cfg.tokenizer());
        }
        TrainStep step = TrainStep.of(model, optimizer, s -> {
            if (tokenizer != null && tokenizer.bosId() >= 0) {
                s.bos = tokenizer.bosId(); // else the model config's
            }
            s.ptLossWeight = cfg.ptLossWeight();
            s.accumulate = cfg.accumulateGradientSteps();
            s.dtype = ModelSetup.dtype(cfg.dtype());
            s.remat = cfg.remat() || mc.gradientCheckpointing();
            s.seed = cfg.seed();
        });
        return new Setup(mc, model, optimizer, step, !cfg.ptTrainData().isEmpty());
    }

    /** The compiled train step on {@code mesh}, parameters and optimizer state donated. */
    private Jit compileStep(Setup setup, Mesh mesh) {
        return onMesh(setup.step().jit("train_step"), mesh, setup.model()).build(client);
    }

    /** Batches are split over dp × fsdp: say so by flag before anything compiles. */
    private void checkBatchFits(Mesh mesh) {
        int ways = mesh.axisSize("dp") * mesh.axisSize("fsdp");
        if (cfg.batchSize() % ways != 0) {
            throw new TrainingException("--batch-size " + cfg.batchSize() + " does not split over dp x fsdp = " + ways + " devices of --mesh-dim "
                    + cfg.meshDim() + " (mesh " + mesh + "); use a batch size divisible by " + ways);
        }
    }

    /**
     * {@code --dry-run}: compiles the train step for this configuration and mesh, runs nothing,
     * and returns the per-device memory report (parameters, optimizer state, batch, activations, peak).
     */
    public String dryRun() {
        Setup setup = setup(ModelSetup.modelConfig(cfg), cfg.tokenizer() == null ? null : Tokenizers.load(cfg.tokenizer()));
        Mesh mesh = Mesh.parse(cfg.meshDim(), client.addressableDevices());
        checkBatchFits(mesh);
        Tree<ArrayType> params = setup.model().paramTypes();
        var inputs = StepIo.Inputs.types(params, setup.optimizer().init(params).map(NdArray::type), cfg.accumulateGradientSteps(),
                cfg.batchSize(), cfg.seqLength(), setup.pretraining(), cfg.noCrossExampleAttention());
        try (Jit step = compileStep(setup, mesh)) {
            var report = step.memoryReport(inputs.toTree());
            var groups = new LinkedHashMap<String, String>();
            groups.put("parameters", StepIo.PARAMS);
            groups.put("optimizer state", StepIo.OPT);
            groups.put("feedback batch", StepIo.Dataset.FEEDBACK.key());
            if (setup.pretraining()) {
                groups.put("pretraining batch", StepIo.Dataset.PRETRAINING.key());
            }
            return setup.config().modelType() + " " + ModelSetup.parameterCount(setup.model()) + " parameters on mesh " + mesh + " ("
                    + mesh.size() + " " + client.platformName() + " devices)\n" + report.format(groups);
        }
    }

    private PackedBatches batches(List<Path> files, Tokenizer tokenizer, boolean pretraining, DataPosition at) {
        var options = PackedBatches.Options.of(cfg.batchSize(), cfg.seqLength()).withSegmentIds(cfg.noCrossExampleAttention());
        TextProcessor tp = new TextProcessor(tokenizer, pretraining ? TextProcessor.Config.text(cfg.ptTextField()) : TextProcessor.Config.feedback());
        return new PackedBatches(files, tp, options, at, System.err);
    }

    /** Reads the step's metrics (a few scalars) and stops on a non-finite one. */
    private Map<String, Double> readMetrics(StepIo.Metrics<DeviceArray> m, double lr, long step, Path lastCheckpoint) {
        var values = new LinkedHashMap<>(m.map(Trainer::scalar).toMap());
        // param_norm covers the updated parameters, which the next checkpoint would hold.
        values.forEach((name, v) -> {
            if (!Double.isFinite(v)) {
                throw new TrainingException("step " + step + ": " + name + " is " + v + "; training stopped. The last good checkpoint "
                        + (lastCheckpoint != null ? lastCheckpoint + " is untouched" : "does not exist yet (none was saved)")
                        + ". Lower --lr, raise --lr-warmup-steps, use --dtype fp32, or check the data.");
            }
        });
        values.put(LEARNING_RATE, lr);
        return values;
    }

    /** The metric name of the step's learning rate in metrics.jsonl and TensorBoard. */
    static final String LEARNING_RATE = "learning_rate";

    /** The value of a device scalar, which is closed. */
    private static double scalar(DeviceArray a) {
        try (a) {
            return a.toHost().get(0);
        }
    }

    private Map<String, Double> evaluate(Jit eval, Tree<Object> params, Tokenizer tokenizer) {
        var result = new LinkedHashMap<String, Double>();
        evaluateSet(eval, params, tokenizer, cfg.evalData(), StepIo.Dataset.FEEDBACK, result);
        evaluateSet(eval, params, tokenizer, cfg.ptEvalData(), StepIo.Dataset.PRETRAINING, result);
        return result;
    }

    private void evaluateSet(Jit eval, Tree<Object> params, Tokenizer tokenizer, List<Path> files, StepIo.Dataset dataset,
                             Map<String, Double> result) {
        if (files.isEmpty()) {
            return;
        }
        double loss = 0, acc = 0;
        try (PackedBatches it = batches(files, tokenizer, dataset == StepIo.Dataset.PRETRAINING, null)) {
            for (long i = 0; i < cfg.evalSteps(); i++) {
                PackedBatch b = it.next();
                var in = new StepIo.EvalInputs<Object>(params, NdArray.of(b.tokens(), b.batch(), b.seq()),
                        NdArray.of(b.lossMasks(), b.batch(), b.seq()), b.segmentIds() == null ? null : NdArray.of(b.segmentIds(), b.batch(), b.seq()));
                StepIo.EvalOutputs<DeviceArray> r = StepIo.EvalOutputs.from(eval.call(in.toTree()));
                loss += scalar(r.loss());
                acc += scalar(r.accuracy());
            }
        }
        result.put(dataset.lossName(), loss / cfg.evalSteps());
        result.put(dataset.accuracyName(), acc / cfg.evalSteps());
    }

    private Path save(String name, ModelConfig config, long step, Tree<Object> params, Tree<Object> opt, DataPosition hf,
                      DataPosition pt) {
        var extra = new LinkedHashMap<String, Object>();
        var data = new LinkedHashMap<String, Object>();
        if (hf != null) {
            data.put(StepIo.Dataset.FEEDBACK.key(), hf.toJson());
        }
        if (pt != null) {
            data.put(StepIo.Dataset.PRETRAINING.key(), pt.toJson());
        }
        extra.put("data_positions", data);
        extra.put("train_config", cfg.toMap());
        return TrainCheckpoint.save(cfg.outputDir(), name, config, step, params, opt, extra, bundledTokenizer);
    }

    private TrainCheckpoint.Loaded resumeState() {
        Path latest = TrainCheckpoint.latest(cfg.outputDir());
        if (latest == null) {
            throw new TrainingException("--resume: " + cfg.outputDir() + " has no checkpoint yet (no checkpoints/LATEST); start without --resume");
        }
        return TrainCheckpoint.load(latest, true);
    }

    /** {@code --load-checkpoint trainstate::DIR}: parameters, optimizer state and step of another run. */
    private TrainCheckpoint.Loaded trainStateToLoad() {
        String spec = cfg.loadCheckpoint();
        if (spec == null || !spec.startsWith("trainstate::")) {
            return null;
        }
        return TrainCheckpoint.load(Path.of(spec.substring("trainstate::".length())), true);
    }

    private static DataPosition position(Map<String, Object> extra, StepIo.Dataset dataset) {
        if (extra.get("data_positions") instanceof Map<?, ?> m && m.get(dataset.key()) instanceof String json) {
            return DataPosition.fromJson(json);
        }
        return null;
    }

    /**
     * The run's config.json: the options, and the model config they resolved to, both with
     * {@code model_type}, so the file is itself a model config ({@code --model-config RUN/config.json}).
     */
    private Map<String, Object> resolvedConfig(ModelConfig mc) {
        var m = new LinkedHashMap<String, Object>();
        m.put("model_type", mc.modelType());
        m.putAll(cfg.toMap());
        var model = new LinkedHashMap<String, Object>();
        model.put("model_type", mc.modelType());
        model.putAll(mc.toMap());
        m.put(ModelConfigs.RUN_MODEL_CONFIG, model);
        return m;
    }

    /** What the progress line shows of a step's metrics: the losses trained on and the learning rate. */
    private static Map<String, Double> shown(Map<String, Double> m, boolean pretraining) {
        var s = new LinkedHashMap<String, Double>();
        s.put(StepIo.Dataset.FEEDBACK.lossName(), m.get(StepIo.Dataset.FEEDBACK.lossName()));
        if (pretraining) {
            s.put(StepIo.Dataset.PRETRAINING.lossName(), m.get(StepIo.Dataset.PRETRAINING.lossName()));
        }
        s.put("lr", m.get(LEARNING_RATE));
        return s;
    }

    private static Map<String, Double> prefixed(String p, Map<String, Double> m) {
        var out = new LinkedHashMap<String, Double>();
        m.forEach((k, v) -> out.put(p + k, v));
        return out;
    }

    private void writePlot() {
        try {
            LossPlot.write(cfg.outputDir().resolve("metrics.jsonl"), cfg.outputDir().resolve("loss.png"),
                    cfg.outputDir().toAbsolutePath().getFileName().toString());
        } catch (IOException e) {
            out.println("(no loss plot: " + e.getMessage() + ")");
        }
    }

    private static void closeAll(Tree<Object> tree) {
        for (Object v : tree.values()) {
            if (v instanceof DeviceArray d) {
                d.close();
            }
        }
    }
}
