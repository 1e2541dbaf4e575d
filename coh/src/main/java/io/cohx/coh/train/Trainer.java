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
import io.cohx.engine.mesh.PartitionRules;
import io.cohx.engine.mesh.PartitionSpec;
import io.cohx.engine.optim.Optimizer;
import io.cohx.engine.optim.LrSchedule;
import io.cohx.models.CausalLm;
import io.cohx.models.checkpoint.AtomicFiles;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.models.tokenizer.Tokenizer;
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
    private io.cohx.models.tokenizer.BundledTokenizer bundledTokenizer;

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
        // ---- what to start from: a resumed run, a loaded checkpoint, or fresh parameters ----
        TrainCheckpoint.Loaded resumed = cfg.resume() ? resumeState() : trainStateToLoad();
        if (!cfg.resume() && TrainCheckpoint.latest(cfg.outputDir()) != null) {
            throw new TrainingException(cfg.outputDir() + " already holds a training run (checkpoints/LATEST); continue it with --resume"
                    + " or choose another --output-dir");
        }
        ModelConfig modelConfig = resumed != null ? resumed.config() : ModelSetup.modelConfig(cfg);
        bundledTokenizer = ModelSetup.bundledTokenizer(cfg, resumed);
        Tokenizer tokenizer = ModelSetup.tokenizer(cfg, bundledTokenizer);
        ModelSetup.checkVocab(tokenizer, modelConfig, cfg.tokenizer() != null ? cfg.tokenizer() : "of " + cfg.loadCheckpoint());
        CausalLm model = CausalLm.of(modelConfig);
        Optimizer optimizer = ModelSetup.optimizer(cfg, model);
        LrSchedule schedule = ModelSetup.schedule(cfg);
        boolean pretraining = !cfg.ptTrainData().isEmpty();
        int bos = tokenizer.bosId() >= 0 ? tokenizer.bosId() : modelConfig.bosTokenId();
        TrainStep program = new TrainStep(model, optimizer, bos, cfg.ptLossWeight(), pretraining, cfg.accumulateGradientSteps(),
                ModelSetup.dtype(cfg.dtype()), ModelSetup.number(modelConfig, "fcm_min_ratio"), ModelSetup.number(modelConfig, "fcm_max_ratio"),
                cfg.remat() || Boolean.TRUE.equals(modelConfig.toMap().get("gradient_checkpointing")), cfg.seed(), ModelSetup.hasDropout(modelConfig));
        if (cfg.noCrossExampleAttention()) {
            program = program.withSegmentIds();
        }
        AtomicFiles.writeString(cfg.outputDir().resolve("config.json"), ModelConfigs.toJson(resolvedConfig(modelConfig)));

        long start = 0;
        Tree<Object> state;
        DataPosition hfPos = null, ptPos = null;
        if (resumed != null) {
            start = resumed.step();
            state = Tree.<Object>empty().nest("params", resumed.params()).nest("opt", resumed.optState());
            if (cfg.resume()) { // a trainstate:: load keeps the step but starts the (new) data from the top
                hfPos = position(resumed.extra(), "hf");
                ptPos = position(resumed.extra(), "pt");
            }
            ModelSetup.checkShapes(model.paramTypes(), resumed.params(), resumed.dir());
            out.println((cfg.resume() ? "resuming from " : "loaded train state ") + resumed.dir() + " at step " + start);
        } else {
            Tree<Object> params = ModelSetup.initialParams(cfg, model, program, client, out,
                    b -> onMesh(b, Mesh.parse(cfg.meshDim(), client.addressableDevices()), model));
            Tree<ArrayType> types = model.paramTypes();
            state = Tree.<Object>empty().nest("params", params).nest("opt", optimizer.init(types));
        }

        Mesh mesh = Mesh.parse(cfg.meshDim(), client.addressableDevices());
        checkBatchFits(mesh);
        try (Jit step = onMesh(Jit.builder("train_step", program.function()).donate("params", "opt"), mesh, model).build(client);
             Jit eval = onMesh(Jit.builder("eval_step", program.evalFunction()), mesh, model).build(client);
             PackedBatches hf = batches(cfg.trainData(), tokenizer, false, hfPos);
             PackedBatches pt = pretraining ? batches(cfg.ptTrainData(), tokenizer, true, ptPos) : null;
             Prefetcher data = new Prefetcher(hf, pt, cfg.accumulateGradientSteps());
             MetricsLog metrics = new MetricsLog(cfg.outputDir(), cfg.resume() ? start : 0);
             TensorBoardWriter tb = new TensorBoardWriter(cfg.outputDir().resolve("tensorboard"));
             StopSignal stop = new StopSignal()) {
            var progress = new ProgressLine(out, ProgressLine.stdoutIsTerminal(), start, cfg.totalSteps());
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
                Tree<Object> in = state.with("hf.tokens", batch.hfTokens()).with("hf.masks", batch.hfMasks())
                        .with("lr", NdArray.scalar(DType.F32, lr)).with("step", NdArray.scalar(DType.S32, stepNo));
                if (pretraining) {
                    in = in.with("pt.tokens", batch.ptTokens()).with("pt.masks", batch.ptMasks());
                }
                if (program.segmentIds()) {
                    in = in.with("hf.segments", batch.hfSegments());
                    in = pretraining ? in.with("pt.segments", batch.ptSegments()) : in;
                }
                Tree<DeviceArray> result = step.call(in);
                state = Tree.<Object>empty().nest("params", result.subtree("params")).nest("opt", result.subtree("opt"));
                last = readMetrics(result.subtree("metrics"), lr, stepNo + 1, checkpoint);
                stepNo++;
                tokens += cfg.tokensPerStep();
                lastHf = batch.hfPosition();
                lastPt = batch.ptPosition();

                if (stepNo % cfg.logFreq() == 0 || stepNo == cfg.totalSteps()) {
                    metrics.log(stepNo, "train", last);
                    tb.scalars(stepNo, last);
                    progress.report(stepNo, shown(last, pretraining), tokens);
                    if (cfg.evalSteps() > 0) {
                        Map<String, Double> ev = evaluate(eval, state.subtree("params"), tokenizer);
                        metrics.log(stepNo, "eval", ev);
                        tb.scalars(stepNo, prefixed("eval_", ev));
                    }
                }
                if (cfg.saveMilestoneFreq() > 0 && stepNo % cfg.saveMilestoneFreq() == 0) {
                    checkpoint = save("milestone_" + stepNo, modelConfig, stepNo, state, lastHf, lastPt);
                }
                if (cfg.saveModelFreq() > 0 && stepNo % cfg.saveModelFreq() == 0) {
                    checkpoint = save("step_" + stepNo, modelConfig, stepNo, state, lastHf, lastPt);
                }
                if (stopAfterStep != null && stepNo >= stopAfterStep) {
                    stop.request();
                }
            }
            progress.finish();
            boolean signalled = stop.requested() && stepNo < cfg.totalSteps();
            if (checkpoint == null || !checkpoint.getFileName().toString().endsWith("_" + stepNo)) {
                checkpoint = save("step_" + stepNo, modelConfig, stepNo, state, lastHf, lastPt);
            }
            out.println((signalled ? "stopped at step " : "finished at step ") + stepNo + "; checkpoint " + checkpoint);
            writePlot();
            stop.finished();
            closeAll(state);
            return new Result(stepNo, checkpoint, last, signalled);
        }
    }

    /**
     * The run's layout over the mesh: parameters and optimizer state by the model's partition
     * rules, {@code [k, B, S]} feedback/pretraining batches split on B over (dp, fsdp), eval
     * batches {@code [B, S]} likewise, scalars and metrics whole. One device: no annotations.
     */
    static Jit.Builder onMesh(Jit.Builder b, Mesh mesh, CausalLm model) {
        if (mesh.size() == 1) {
            return b;
        }
        model.checkMesh(mesh);
        java.util.function.Function<String, PartitionSpec> spec = path -> {
            if (path.startsWith("hf.") || path.startsWith("pt.")) {
                return PartitionSpec.ofGroups(List.of(List.of(), List.of("dp", "fsdp")));
            }
            if (path.equals("tokens") || path.equals("masks") || path.equals("segments")) {
                return PartitionRules.BATCH;
            }
            if (path.startsWith("params.") || path.startsWith("opt.") || model.paramTypes().has(path)) { // has(): init's outputs
                return model.partitionRules().specFor(path);
            }
            return PartitionSpec.REPLICATED;
        };
        return b.mesh(mesh, spec, spec);
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
        ModelConfig modelConfig = ModelSetup.modelConfig(cfg);
        CausalLm model = CausalLm.of(modelConfig);
        Optimizer optimizer = ModelSetup.optimizer(cfg, model);
        boolean pretraining = !cfg.ptTrainData().isEmpty();
        TrainStep program = new TrainStep(model, optimizer, modelConfig.bosTokenId(), cfg.ptLossWeight(), pretraining,
                cfg.accumulateGradientSteps(), ModelSetup.dtype(cfg.dtype()), ModelSetup.number(modelConfig, "fcm_min_ratio"),
                ModelSetup.number(modelConfig, "fcm_max_ratio"), cfg.remat(), cfg.seed(), ModelSetup.hasDropout(modelConfig));
        if (cfg.noCrossExampleAttention()) {
            program = program.withSegmentIds();
        }
        Mesh mesh = Mesh.parse(cfg.meshDim(), client.addressableDevices());
        checkBatchFits(mesh);
        Tree<ArrayType> types = Tree.<ArrayType>empty().nest("params", model.paramTypes())
                .nest("opt", optimizer.init(model.paramTypes()).map(NdArray::type))
                .with("lr", ArrayType.of(DType.F32)).with("step", ArrayType.of(DType.S32));
        int k = cfg.accumulateGradientSteps();
        for (String d : pretraining ? List.of("hf", "pt") : List.of("hf")) {
            types = types.with(d + ".tokens", ArrayType.of(DType.S32, k, cfg.batchSize(), cfg.seqLength()))
                    .with(d + ".masks", ArrayType.of(DType.F32, k, cfg.batchSize(), cfg.seqLength()));
            if (program.segmentIds()) {
                types = types.with(d + ".segments", ArrayType.of(DType.S32, k, cfg.batchSize(), cfg.seqLength()));
            }
        }
        try (Jit step = onMesh(Jit.builder("train_step", program.function()).donate("params", "opt"), mesh, model).build(client)) {
            var report = step.memoryReport(types);
            var groups = new LinkedHashMap<String, String>();
            groups.put("parameters", "params");
            groups.put("optimizer state", "opt");
            groups.put("feedback batch", "hf");
            if (pretraining) {
                groups.put("pretraining batch", "pt");
            }
            return modelConfig.modelType() + " " + ModelSetup.parameterCount(model) + " parameters on mesh " + mesh + " ("
                    + mesh.size() + " " + client.platformName() + " devices)\n" + report.format(groups);
        }
    }

    private PackedBatches batches(List<Path> files, Tokenizer tokenizer, boolean pretraining, DataPosition at) {
        var options = PackedBatches.Options.of(cfg.batchSize(), cfg.seqLength()).withSegmentIds(cfg.noCrossExampleAttention());
        TextProcessor tp = new TextProcessor(tokenizer, pretraining ? TextProcessor.Config.text(cfg.ptTextField()) : TextProcessor.Config.feedback());
        return new PackedBatches(files, tp, options, at, System.err);
    }

    /** Reads the step's metrics (a few scalars) and stops on a non-finite loss. */
    private Map<String, Double> readMetrics(Tree<DeviceArray> m, double lr, long step, Path lastCheckpoint) {
        var values = new LinkedHashMap<String, Double>();
        for (String name : TrainStep.metricNames()) {
            try (DeviceArray a = m.get(name)) {
                values.put(name, a.toHost().get(0));
            }
        }
        values.put("learning_rate", lr);
        // param_norm covers the updated parameters, which the next checkpoint would hold.
        for (String loss : List.of("hf_loss", "pt_loss", "gradient_norm", "param_norm")) {
            double v = values.get(loss);
            if (!Double.isFinite(v)) {
                throw new TrainingException("step " + step + ": " + loss + " is " + v + "; training stopped. The last good checkpoint "
                        + (lastCheckpoint != null ? lastCheckpoint + " is untouched" : "does not exist yet (none was saved)")
                        + ". Lower --lr, raise --lr-warmup-steps, use --dtype fp32, or check the data.");
            }
        }
        return values;
    }

    private Map<String, Double> evaluate(Jit eval, Tree<Object> params, Tokenizer tokenizer) {
        var result = new LinkedHashMap<String, Double>();
        evaluateSet(eval, params, tokenizer, cfg.evalData(), false, "hf", result);
        evaluateSet(eval, params, tokenizer, cfg.ptEvalData(), true, "pt", result);
        return result;
    }

    private void evaluateSet(Jit eval, Tree<Object> params, Tokenizer tokenizer, List<Path> files, boolean pretraining, String prefix,
                             Map<String, Double> result) {
        if (files.isEmpty()) {
            return;
        }
        double loss = 0, acc = 0;
        try (PackedBatches it = batches(files, tokenizer, pretraining, null)) {
            for (long i = 0; i < cfg.evalSteps(); i++) {
                PackedBatch b = it.next();
                Tree<Object> in = Tree.<Object>empty().nest("params", params)
                        .with("tokens", NdArray.of(b.tokens(), b.batch(), b.seq())).with("masks", NdArray.of(b.lossMasks(), b.batch(), b.seq()));
                if (b.segmentIds() != null) {
                    in = in.with("segments", NdArray.of(b.segmentIds(), b.batch(), b.seq()));
                }
                Tree<DeviceArray> r = eval.call(in);
                try (DeviceArray l = r.get("loss"); DeviceArray a = r.get("accuracy")) {
                    loss += l.toHost().get(0);
                    acc += a.toHost().get(0);
                }
            }
        }
        result.put(prefix + "_loss", loss / cfg.evalSteps());
        result.put(prefix + "_accuracy", acc / cfg.evalSteps());
    }

    private Path save(String name, ModelConfig config, long step, Tree<Object> state, DataPosition hf, DataPosition pt) {
        var extra = new LinkedHashMap<String, Object>();
        var data = new LinkedHashMap<String, Object>();
        if (hf != null) {
            data.put("hf", hf.toJson());
        }
        if (pt != null) {
            data.put("pt", pt.toJson());
        }
        extra.put("data_positions", data);
        extra.put("train_config", cfg.toMap());
        return TrainCheckpoint.save(cfg.outputDir(), name, config, step, state.subtree("params"), state.subtree("opt"), extra,
                bundledTokenizer);
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

    private static DataPosition position(Map<String, Object> extra, String key) {
        if (extra.get("data_positions") instanceof Map<?, ?> m && m.get(key) instanceof String json) {
            return DataPosition.fromJson(json);
        }
        return null;
    }

    private Map<String, Object> resolvedConfig(ModelConfig mc) {
        var m = new LinkedHashMap<String, Object>(cfg.toMap());
        m.put("resolved_model_config", mc.toMap());
        return m;
    }

    private static Map<String, Double> shown(Map<String, Double> m, boolean pretraining) {
        var s = new LinkedHashMap<String, Double>();
        s.put("hf_loss", m.get("hf_loss"));
        if (pretraining) {
            s.put("pt_loss", m.get("pt_loss"));
        }
        s.put("lr", m.get("learning_rate"));
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

    private static void closeAll(Tree<Object> state) {
        for (Object v : state.values()) {
            if (v instanceof DeviceArray d) {
                d.close();
            }
        }
    }
}
