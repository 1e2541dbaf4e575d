package io.cohx.coh.train;

import io.cohx.engine.ArrayType;
import io.cohx.engine.DType;
import io.cohx.engine.Tree;
import io.cohx.engine.mesh.PartitionRules;
import io.cohx.engine.mesh.PartitionSpec;
import io.cohx.models.CausalLm;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What the compiled training programs read and return, and the only place that knows their tree
 * paths. Each record is generic in its leaf {@code T}, so one description serves every side: the
 * traced function sees {@code Tensor}s, the trainer passes host arrays and gets
 * {@code DeviceArray}s back, the dry run asks the compiler about {@code ArrayType}s.
 * <ul>
 *   <li>{@link Inputs} of the train step: model and optimizer state, each dataset's {@link Batch}
 *       of k micro-batches, the learning rate and the step number;</li>
 *   <li>{@link Outputs}: the updated state and the {@link Metrics};</li>
 *   <li>{@link EvalInputs} / {@link EvalOutputs} of the eval step;</li>
 *   <li>{@link #layout} places each of them on a device mesh.</li>
 * </ul>
 */
public final class StepIo {
    private StepIo() {}

    static final String PARAMS = "params";
    static final String OPT = "opt";
    static final String LR = "lr";
    static final String STEP = "step";
    static final String METRICS = "metrics";
    static final String TOKENS = "tokens";
    static final String MASKS = "masks";
    static final String SEGMENTS = "segments";
    static final String LOSS = "loss";
    static final String ACCURACY = "accuracy";

    /** The two datasets of CoH training; {@link #key} names them in trees, metrics and checkpoints. */
    public enum Dataset {
        /** CoH feedback sequences (cohx pack), with loss masks on the answers. */
        FEEDBACK("hf"),
        /** Plain pretraining text, masks all ones. */
        PRETRAINING("pt");

        private final String key;

        Dataset(String key) {
            this.key = key;
        }

        /** {@code hf} or {@code pt}. */
        public String key() {
            return key;
        }

        /** {@code hf_loss} or {@code pt_loss}. */
        public String lossName() {
            return key + "_" + LOSS;
        }

        /** {@code hf_accuracy} or {@code pt_accuracy}. */
        public String accuracyName() {
            return key + "_" + ACCURACY;
        }
    }

    /**
     * One dataset's k micro-batches of one step: token ids (s32), loss masks (f32) and, when
     * packed examples must not attend to each other ({@code no_cross_example_attention}), the
     * packer's segment ids (s32; null otherwise: one causal mask over the whole row, like the
     * original trainer), each of shape {@code [k, B, S]} (k = accumulate_gradient_steps).
     */
    public record Batch<T>(T tokens, T masks, T segments) {
        /** A batch without segment ids. */
        public Batch(T tokens, T masks) {
            this(tokens, masks, null);
        }

        /** The types of a batch of k micro-batches of {@code batch} sequences of {@code seq} tokens. */
        public static Batch<ArrayType> types(int k, int batch, int seq, boolean segments) {
            return new Batch<>(ArrayType.of(DType.S32, k, batch, seq), ArrayType.of(DType.F32, k, batch, seq),
                    segments ? ArrayType.of(DType.S32, k, batch, seq) : null);
        }

        Tree<T> into(Tree<T> tree, Dataset d) {
            Tree<T> t = tree.with(d.key() + "." + TOKENS, tokens).with(d.key() + "." + MASKS, masks);
            return segments == null ? t : t.with(d.key() + "." + SEGMENTS, segments);
        }

        static <T> Batch<T> from(Tree<T> tree, Dataset d) {
            String seg = d.key() + "." + SEGMENTS;
            return new Batch<>(tree.get(d.key() + "." + TOKENS), tree.get(d.key() + "." + MASKS), tree.has(seg) ? tree.get(seg) : null);
        }
    }

    /**
     * The train step's inputs.
     *
     * @param params model parameters (donated: updated in place)
     * @param opt    optimizer state (donated)
     * @param hf     the feedback batch
     * @param pt     the pretraining batch, or null when the run has no pretraining data
     * @param lr     learning rate (f32 scalar, from the host schedule)
     * @param step   step number (s32 scalar, which the step's random key folds in)
     */
    public record Inputs<T>(Tree<T> params, Tree<T> opt, Batch<T> hf, Batch<T> pt, T lr, T step) {
        /** The input types of a step over parameters and optimizer state of these types. */
        public static Inputs<ArrayType> types(Tree<ArrayType> params, Tree<ArrayType> opt, int k, int batch, int seq, boolean pretraining,
                                              boolean segments) {
            Batch<ArrayType> b = Batch.types(k, batch, seq, segments);
            return new Inputs<>(params, opt, b, pretraining ? b : null, ArrayType.of(DType.F32), ArrayType.of(DType.S32));
        }

        public Tree<T> toTree() {
            Tree<T> t = hf.into(Tree.<T>empty().nest(PARAMS, params).nest(OPT, opt), Dataset.FEEDBACK);
            if (pt != null) {
                t = pt.into(t, Dataset.PRETRAINING);
            }
            return t.with(LR, lr).with(STEP, step);
        }

        /** The inputs in {@code tree}; {@code pt} is null when the tree holds no pretraining batch. */
        public static <T> Inputs<T> from(Tree<T> tree) {
            Batch<T> pt = tree.has(Dataset.PRETRAINING.key() + "." + TOKENS) ? Batch.from(tree, Dataset.PRETRAINING) : null;
            return new Inputs<>(tree.subtree(PARAMS), tree.subtree(OPT), Batch.from(tree, Dataset.FEEDBACK), pt, tree.get(LR),
                    tree.get(STEP));
        }

        /** The batch of {@code d} (null: no pretraining batch). */
        public Batch<T> batch(Dataset d) {
            return d == Dataset.FEEDBACK ? hf : pt;
        }
    }

    /** The train step's outputs: updated parameters and optimizer state (same paths as the inputs) and the metrics. */
    public record Outputs<T>(Tree<T> params, Tree<T> opt, Metrics<T> metrics) {
        public Tree<T> toTree() {
            return Tree.<T>empty().nest(PARAMS, params).nest(OPT, opt).nest(METRICS, metrics.toTree());
        }

        public static <T> Outputs<T> from(Tree<T> tree) {
            return new Outputs<>(tree.subtree(PARAMS), tree.subtree(OPT), Metrics.from(tree.subtree(METRICS)));
        }
    }

    /**
     * The train step's scalars, in log order. Losses and accuracies are means over the k
     * micro-batches; without pretraining data the pt ones are 0. {@code gradientNorm} is the
     * global norm of the combined gradient before clipping, {@code paramNorm} that of the updated
     * parameters.
     */
    public record Metrics<T>(T hfLoss, T ptLoss, T hfAccuracy, T ptAccuracy, T gradientNorm, T paramNorm) {
        public static final String GRADIENT_NORM = "gradient_norm";
        public static final String PARAM_NORM = "param_norm";

        /** The names, in the order of the components (and of metrics.jsonl). */
        public static final List<String> NAMES = List.of(Dataset.FEEDBACK.lossName(), Dataset.PRETRAINING.lossName(),
                Dataset.FEEDBACK.accuracyName(), Dataset.PRETRAINING.accuracyName(), GRADIENT_NORM, PARAM_NORM);

        private List<T> values() {
            return List.of(hfLoss, ptLoss, hfAccuracy, ptAccuracy, gradientNorm, paramNorm);
        }

        /** Name to value, in {@link #NAMES} order. */
        public Map<String, T> toMap() {
            var m = new LinkedHashMap<String, T>();
            List<T> v = values();
            for (int i = 0; i < NAMES.size(); i++) {
                m.put(NAMES.get(i), v.get(i));
            }
            return m;
        }

        public Tree<T> toTree() {
            return Tree.of(toMap());
        }

        public static <T> Metrics<T> from(Tree<T> tree) {
            List<T> v = NAMES.stream().map(tree::get).toList();
            return new Metrics<>(v.get(0), v.get(1), v.get(2), v.get(3), v.get(4), v.get(5));
        }

        public <R> Metrics<R> map(Function<? super T, ? extends R> f) {
            return new Metrics<>(f.apply(hfLoss), f.apply(ptLoss), f.apply(hfAccuracy), f.apply(ptAccuracy), f.apply(gradientNorm),
                    f.apply(paramNorm));
        }
    }

    /**
     * The eval step's inputs: parameters and one batch of tokens (s32), loss masks (f32) and
     * segment ids (s32, or null as in {@link Batch}), each {@code [B, S]}.
     */
    public record EvalInputs<T>(Tree<T> params, T tokens, T masks, T segments) {
        /** Inputs without segment ids. */
        public EvalInputs(Tree<T> params, T tokens, T masks) {
            this(params, tokens, masks, null);
        }

        public Tree<T> toTree() {
            Tree<T> t = Tree.<T>empty().nest(PARAMS, params).with(TOKENS, tokens).with(MASKS, masks);
            return segments == null ? t : t.with(SEGMENTS, segments);
        }

        public static <T> EvalInputs<T> from(Tree<T> tree) {
            return new EvalInputs<>(tree.subtree(PARAMS), tree.get(TOKENS), tree.get(MASKS), tree.has(SEGMENTS) ? tree.get(SEGMENTS) : null);
        }
    }

    /** The eval step's outputs: mean loss and accuracy over the batch's masked tokens. */
    public record EvalOutputs<T>(T loss, T accuracy) {
        public Tree<T> toTree() {
            return Tree.of(LOSS, loss, ACCURACY, accuracy);
        }

        public static <T> EvalOutputs<T> from(Tree<T> tree) {
            return new EvalOutputs<>(tree.get(LOSS), tree.get(ACCURACY));
        }
    }

    /** Micro-batches {@code [k, B, S]}: B split over (dp, fsdp), the k micro-batches whole on each device. */
    private static final PartitionSpec MICRO_BATCHES = PartitionSpec.ofGroups(List.of(List.of(), List.of("dp", "fsdp")));

    /**
     * Where each input and output of the training programs lives on a device mesh: parameters and
     * optimizer state by the model's partition rules (also the bare parameter paths the init
     * program returns), batches split on B over (dp, fsdp), scalars and metrics whole.
     */
    static PartitionSpec layout(String path, CausalLm model) {
        int dot = path.indexOf('.');
        String head = dot < 0 ? path : path.substring(0, dot);
        if (head.equals(Dataset.FEEDBACK.key()) || head.equals(Dataset.PRETRAINING.key())) {
            return MICRO_BATCHES;
        }
        if (path.equals(TOKENS) || path.equals(MASKS) || path.equals(SEGMENTS)) {
            return PartitionRules.BATCH;
        }
        if (head.equals(PARAMS) || head.equals(OPT) || model.paramTypes().has(path)) {
            return model.partitionRules().specFor(path);
        }
        return PartitionSpec.REPLICATED;
    }
}
