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
import io.cohx.engine.MemoryReport;
import io.cohx.engine.RematPolicy;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.engine.dist.Coordination;
import io.cohx.engine.dist.HostGather;
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
import io.cohx.pjrt.PjrtDevice;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Chain of Hindsight training loop (docs/COH.md#train-step): read the CoH feedback batches (and the
 * pretraining batches), run one compiled step per optimizer update, log, evaluate, checkpoint,
 * resume. {@link #run()} reads top to bottom; everything else hangs off it.
 */
public final class Trainer {
    private final TrainConfig cfg;
    private final PjrtClient client;
    private final PrintStream out;
    /** The other processes of a multi-process run; null for one process. */
    private final Coordination peers;
    /** Reads state whose blocks span processes (multi-process runs), for checkpoints. */
    private HostGather gather;
    /** The vocabulary and chat template the starting weights came with, kept in every checkpoint (null: none). */
    private BundledTokenizer bundledTokenizer;

    /**
     * What a finished run leaves. {@code deviceBytes}: the bytes the parameters ({@code params})
     * and optimizer state ({@code opt}) occupied on a device after the last step, as the plugin
     * reports its buffers (the largest shard of each array); empty when no step ran.
     */
    public record Result(long step, Path checkpoint, Map<String, Double> lastMetrics, boolean stoppedBySignal, Map<String, Long> deviceBytes) {}

    public Trainer(TrainConfig cfg, PjrtClient client, PrintStream out) {
        this(cfg, client, out, null);
    }

    /**
     * One process of a multi-process run ({@code peers} null: a single process). The mesh spans
     * every process's devices in {@link Mesh#globalOrder}; each process packs the same batches
     * and uploads only its devices' rows; process 0 alone writes metrics, TensorBoard, the plot
     * and config.json; checkpoints are saved together; a stop (SIGTERM) is agreed every step so
     * that all stop after the same one.
     */
    public Trainer(TrainConfig cfg, PjrtClient client, PrintStream out, Coordination peers) {
        this.cfg = cfg;
        this.client = client;
        this.out = out;
        this.peers = peers;
    }

    private boolean leader() {
        return peers == null || peers.group().isCoordinator();
    }

    private List<PjrtDevice> meshDevices() {
        return peers == null ? client.addressableDevices() : Mesh.globalOrder(client.devices());
    }

    /** Whether to stop before the next step: this process's signal, or (multi-process) anyone's. */
    private boolean stopAgreed(StopSignal stop) {
        return peers == null ? stop.requested() : peers.anyOf("stop", stop.requested(), Duration.ofMinutes(30));
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
        bundledTokenizer = ModelSetup.bundledTokenizer(cfg, resumed);
        // --tokenizer, else the one that came with the starting weights (ModelSetup.tokenizer names what to pass when none did).
        Tokenizer tokenizer = ModelSetup.tokenizer(cfg, bundledTokenizer);
        Setup setup = setup(modelConfig, tokenizer);
        CausalLm model = setup.model();
        Optimizer optimizer = setup.optimizer();
        TrainStep program = setup.step();
        LrSchedule schedule = ModelSetup.schedule(cfg);
        boolean pretraining = setup.pretraining();
        if (leader()) {
            AtomicFiles.writeString(cfg.outputDir().resolve("config.json"), ModelConfigs.toJson(resolvedConfig(modelConfig)));
        }

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
                    b -> onMesh(b, Mesh.parse(cfg.meshDim(), meshDevices()), model));
            opt = optimizer.init(model.paramTypes()).map(x -> x);
        }

        Mesh mesh = Mesh.parse(cfg.meshDim(), meshDevices());
        checkBatchFits(mesh);
        gather = peers != null ? new HostGather(client, mesh) : null;
        try (HostGather closeGather = gather;
             Jit step = compileStep(setup, mesh);
             Jit eval = onMesh(Jit.builder("eval_step", program.evalFunction()), mesh, model).build(client);
             PackedBatches hf = batches(cfg.trainData(), tokenizer, false, hfPos);
             PackedBatches pt = pretraining ? batches(cfg.ptTrainData(), tokenizer, true, ptPos) : null;
             Prefetcher data = new Prefetcher(hf, pt, cfg.accumulateGradientSteps());
             MetricsLog metrics = leader() ? new MetricsLog(cfg.outputDir(), cfg.resume() ? start : 0) : null;
             TensorBoardWriter tb = leader() ? new TensorBoardWriter(cfg.outputDir().resolve("tensorboard")) : null;
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
            boolean stopped = false;
            while (stepNo < cfg.totalSteps()) {
                if (stopAgreed(stop)) {
                    stopped = true;
                    break;
                }
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
                    if (leader()) { // one writer of the run's files
                        metrics.log(stepNo, "train", last);
                        tb.scalars(stepNo, last);
                    }
                    progress.report(stepNo, shown(last, pretraining), tokens);
                    if (cfg.evalSteps() > 0) { // every process: evaluation runs collective programs
                        Map<String, Double> ev = evaluate(eval, params, tokenizer);
                        if (leader()) {
                            metrics.log(stepNo, "eval", ev);
                            tb.scalars(stepNo, prefixed("eval_", ev));
                        }
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
            boolean signalled = stopped && stepNo < cfg.totalSteps();
            if (checkpoint == null || !checkpoint.getFileName().toString().endsWith("_" + stepNo)) {
                checkpoint = save("step_" + stepNo, modelConfig, stepNo, params, opt, lastHf, lastPt);
            }
            out.println((signalled ? "stopped at step " : "finished at step ") + stepNo + "; checkpoint " + checkpoint);
            if (leader()) {
                writePlot();
            }
            stop.finished();
            Map<String, Long> deviceBytes = new LinkedHashMap<>();
            deviceBytes.put(StepIo.PARAMS, bytesPerDevice(params));
            deviceBytes.put(StepIo.OPT, bytesPerDevice(opt));
            deviceBytes.values().removeIf(b -> b == 0);
            closeAll(params);
            closeAll(opt);
            return new Result(stepNo, checkpoint, last, signalled, deviceBytes);
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
     * gradient_checkpointing asks for it, keeping what the config's remat_policy names.
     */
    Setup setup(ModelConfig mc, Tokenizer tokenizer) {
        CausalLm model = CausalLm.of(mc);
        Optimizer optimizer = ModelSetup.optimizer(cfg, model);
        if (tokenizer != null) {
            ModelSetup.checkVocab(tokenizer, mc, cfg.tokenizer() != null ? cfg.tokenizer() : "of " + cfg.loadCheckpoint());
        }
        TrainStep step = TrainStep.of(model, optimizer, s -> {
            if (tokenizer != null && tokenizer.bosId() >= 0) {
                s.bos = tokenizer.bosId(); // else the model config's
            }
            s.ptLossWeight = cfg.ptLossWeight();
            s.accumulate = cfg.accumulateGradientSteps();
            s.dtype = ModelSetup.dtype(cfg.dtype());
            s.remat = cfg.remat() || mc.gradientCheckpointing();
            // What a recomputed block keeps: the model config's remat_policy when it asks for checkpointing.
            s.rematPolicy = mc.gradientCheckpointing() ? RematPolicy.of(mc.rematPolicy()) : RematPolicy.NOTHING_SAVEABLE;
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

    /** Models with more layers than this are compiled with 1 and 2 layers in a dry run, and extrapolated. */
    static final int FULL_COMPILE_LAYERS = 4;

    /** {@link #dryRun(long, boolean)}'s table, with the device's own memory and extrapolation where it applies. */
    public String dryRun() {
        return dryRun(0, false).table(dryRunGroups());
    }

    /** The compiled inputs' rows of the dry run's table: label → path prefix. */
    public Map<String, String> dryRunGroups() {
        var groups = new LinkedHashMap<String, String>();
        groups.put("parameters", StepIo.PARAMS);
        groups.put("optimizer state", StepIo.OPT);
        groups.put("feedback batch", StepIo.Dataset.FEEDBACK.key());
        if (!cfg.ptTrainData().isEmpty()) {
            groups.put("pretraining batch", StepIo.Dataset.PRETRAINING.key());
        }
        return groups;
    }

    /**
     * {@code --dry-run}: the train step of this configuration compiled from argument types alone
     * (nothing of the model's size is allocated on the host or a device). It reports the compiled
     * executable's memory per device, the estimate from shapes ({@link MemoryEstimate}), and
     * whether the peak fits {@code deviceMemory} bytes per device (0: for CPU devices their share
     * of the host's memory, unknown elsewhere). A model of more than {@link #FULL_COMPILE_LAYERS}
     * layers is compiled with 1 and 2 layers and its figures extrapolated
     * ({@link DryRun#extrapolate}), unless {@code full}: compiling every layer of a 7B model takes
     * minutes, and the layers are identical.
     */
    public DryRun dryRun(long deviceMemory, boolean full) {
        ModelConfig mc = ModelSetup.modelConfig(cfg);
        Tokenizer tokenizer = cfg.tokenizer() == null ? null : Tokenizers.load(cfg.tokenizer());
        Setup setup = setup(mc, tokenizer);
        Mesh mesh = Mesh.parse(cfg.meshDim(), client.addressableDevices());
        checkBatchFits(mesh);
        int layers = mc.numLayers();
        MemoryReport report;
        String note;
        if (full || layers <= FULL_COMPILE_LAYERS) {
            report = compiledMemory(setup, mesh);
            note = "compiled: all " + layers + " layers";
        } else {
            MemoryReport one = compiledMemory(setup(withLayers(mc, 1), tokenizer), mesh);
            MemoryReport two = compiledMemory(setup(withLayers(mc, 2), tokenizer), mesh);
            report = DryRun.extrapolate(one, two, layers);
            note = "compiled with 1 and 2 layers, extrapolated to " + layers + " (each layer adds the same); --dry-run-full compiles all";
        }
        String source = "--device-memory";
        if (deviceMemory <= 0 && client.platformName().equalsIgnoreCase("cpu")) {
            deviceMemory = hostMemory() / mesh.size();
            source = "the host's memory shared by " + mesh.size() + " CPU device" + (mesh.size() == 1 ? "" : "s");
        }
        String header = header(cfg, setup, "mesh " + mesh + " (" + mesh.size() + " " + client.platformName() + " devices)");
        return new DryRun(header, report, note, estimate(cfg, setup, mesh.axisSize("dp"), mesh.axisSize("fsdp"), mesh.axisSize("mp")),
                deviceMemory, source);
    }

    private static String header(TrainConfig cfg, Setup setup, String where) {
        TrainStep.Memory m = setup.step().memory();
        return setup.config().modelType() + " " + ModelSetup.parameterCount(setup.model()) + " parameters on " + where + ", batch "
                + cfg.batchSize() + " x seq " + cfg.seqLength() + ", " + cfg.dtype() + ", remat " + m.remat().configName()
                + (m.lossChunk() > 0 ? ", loss chunk " + m.lossChunk() : "") + (m.attentionChunk() > 0 ? ", attention chunk " + m.attentionChunk() : "");
    }

    /**
     * {@code --dry-run} for a platform whose devices are not here ({@code why}: what failed when
     * asking for them): the estimate from shapes alone, for the mesh {@code --mesh-dim} names,
     * which must then give every dimension.
     */
    public static DryRun estimateOnly(TrainConfig cfg, PrintStream out, long deviceMemory, String why) {
        String[] parts = cfg.meshDim().trim().split(",");
        int[] dims = {1, 1, 1};
        for (int i = 0; i < Math.min(parts.length, 3); i++) {
            try {
                dims[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                dims[i] = 0;
            }
            if (dims[i] < 1) {
                throw new TrainingException("--mesh-dim '" + cfg.meshDim() + "': without the platform's devices the dry run cannot infer a"
                        + " dimension; give every size, e.g. 1,8,1");
            }
        }
        Trainer t = new Trainer(cfg, null, out);
        Setup setup = t.setup(ModelSetup.modelConfig(cfg), cfg.tokenizer() == null ? null : Tokenizers.load(cfg.tokenizer()));
        String header = header(cfg, setup, "mesh dp=" + dims[0] + ", fsdp=" + dims[1] + ", mp=" + dims[2])
                + "\nno devices to compile for (" + why + "): ESTIMATE ONLY";
        return new DryRun(header, null, null, estimate(cfg, setup, dims[0], dims[1], dims[2]), deviceMemory, "--device-memory");
    }

    /** The train step's compiled memory on {@code mesh}, from argument types alone. */
    private MemoryReport compiledMemory(Setup setup, Mesh mesh) {
        Tree<ArrayType> params = setup.model().paramTypes();
        var inputs = StepIo.Inputs.types(params, setup.optimizer().stateTypes(params), cfg.accumulateGradientSteps(),
                cfg.batchSize(), cfg.seqLength(), setup.pretraining(), cfg.noCrossExampleAttention());
        try (Jit step = compileStep(setup, mesh)) {
            return step.memoryReport(inputs.toTree());
        }
    }

    /** The same model config with {@code n} layers. */
    static ModelConfig withLayers(ModelConfig mc, int n) {
        String key = switch (mc) {
            case io.cohx.models.config.LlamaConfig l -> "num_hidden_layers";
            case io.cohx.models.config.GptjConfig g -> "n_layer";
        };
        return mc.withUpdates(Map.of(key, n), "dry run");
    }

    /** The estimate from shapes for this configuration on a dp × fsdp × mp mesh. */
    static MemoryEstimate estimate(TrainConfig cfg, Setup setup, int dp, int fsdp, int mp) {
        ModelConfig mc = setup.config();
        long paramBytes = bytes(setup.model().paramTypes());
        long stateBytes = bytes(setup.optimizer().stateTypes(setup.model().paramTypes()));
        int intermediate = switch (mc) {
            case io.cohx.models.config.LlamaConfig l -> l.intermediateSize();
            case io.cohx.models.config.GptjConfig g -> g.nInner() == null ? 4 * g.hiddenSize() : g.nInner();
        };
        var dims = new MemoryEstimate.Dims(paramBytes, stateBytes, mc.numLayers(), mc.hiddenSize(), intermediate, mc.numHeads(), mc.vocabSize());
        TrainStep.Memory m = setup.step().memory();
        var layout = new MemoryEstimate.Layout(cfg.batchSize(), cfg.seqLength(), ModelSetup.dtype(cfg.dtype()).elementType().byteSize(), dp,
                fsdp, mp, m.remat(), m.lossChunk(), m.attentionChunk(), setup.pretraining() || cfg.accumulateGradientSteps() > 1);
        return MemoryEstimate.of(dims, layout);
    }

    /** Bytes per device of {@code state}'s arrays (the largest shard of each). */
    private static long bytesPerDevice(Tree<Object> state) {
        long sum = 0;
        for (Object leaf : state.values()) {
            if (leaf instanceof DeviceArray d) {
                sum += d.bytesPerDevice();
            }
        }
        return sum;
    }

    private static long bytes(Tree<ArrayType> types) {
        long sum = 0;
        for (String p : types.paths()) {
            ArrayType t = types.get(p);
            sum += t.shape().size() * t.dtype().elementType().byteSize();
        }
        return sum;
    }

    /** The machine's memory (MemTotal of /proc/meminfo), or 0 when unknown. */
    static long hostMemory() {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
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
        return TrainCheckpoint.save(cfg.outputDir(), name, config, step, params, opt, extra, bundledTokenizer, peers, gather);
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
