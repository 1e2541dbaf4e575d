package io.cohx.coh.train;

import io.cohx.engine.Autodiff;
import io.cohx.engine.Constants;
import io.cohx.engine.DType;
import io.cohx.engine.Jit;
import io.cohx.engine.RematPolicy;
import io.cohx.engine.Rng;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.engine.optim.AdamW;
import io.cohx.engine.optim.Optimizer;
import io.cohx.models.CausalLm;
import io.cohx.models.ForwardOptions;
import io.cohx.models.LmLoss;
import io.cohx.models.config.ModelConfig;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The traced programs of training, as functions of parameter trees (compiled by the trainer with
 * {@link io.cohx.engine.Jit}). The train step computes the CoH (feedback) loss and the pretraining
 * loss with their gradients, combines them as {@code g_hf + pt_loss_weight * g_pt}, and applies
 * one optimizer update, all in one program; without a pretraining batch in its inputs it trains on
 * the feedback loss alone; with segment ids in its batches ({@link StepIo.Batch#segments()}),
 * examples packed into one row attend only within themselves and their positions restart at each.
 * Its inputs and outputs are {@link StepIo.Inputs} and {@link StepIo.Outputs}; the eval step's are
 * {@link StepIo.EvalInputs} and {@link StepIo.EvalOutputs}.
 * Dropout and the forgetful causal mask follow the model's config; the rest is named
 * {@link Settings} ({@link #of}).
 */
public final class TrainStep {
    private final CausalLm model;
    private final Optimizer optimizer;
    private final int bos;
    private final double ptWeight;
    private final int accumulate;
    private final DType dtype;
    private final Memory memory;
    private final long seed;

    /**
     * How the step trades compute for memory: what each block keeps for the backward pass
     * ({@code remat}), and how many positions of the loss and queries of attention are computed
     * at a time ({@code lossChunk}, {@code attentionChunk}; 0: all at once).
     */
    public record Memory(RematPolicy remat, int lossChunk, int attentionChunk) {
        /** Everything kept, nothing chunked. */
        public static final Memory NONE = new Memory(RematPolicy.EVERYTHING_SAVEABLE, 0, 0);

        public Memory {
            if (remat == null) {
                throw new IllegalArgumentException("TrainStep.Memory.remat: give a RematPolicy (EVERYTHING_SAVEABLE for none)");
            }
            if (lossChunk < 0 || attentionChunk < 0) {
                throw new IllegalArgumentException("loss and attention chunks must be >= 0 (0: whole), got " + lossChunk + " and "
                        + attentionChunk);
            }
        }
    }

    private TrainStep(CausalLm model, Optimizer optimizer, Settings s) {
        this.model = model;
        this.optimizer = optimizer;
        this.bos = s.bos;
        this.ptWeight = s.ptLossWeight;
        this.accumulate = s.accumulate;
        this.dtype = s.dtype;
        this.memory = new Memory(s.remat ? s.rematPolicy : RematPolicy.EVERYTHING_SAVEABLE, s.lossChunk, s.attentionChunk);
        this.seed = s.seed;
    }

    /** The step of {@code model} updated by {@code optimizer}, from the default {@link Settings} with {@code changes} applied. */
    public static TrainStep of(CausalLm model, Optimizer optimizer, Consumer<Settings> changes) {
        var s = new Settings(model.config().bosTokenId());
        changes.accept(s);
        return new TrainStep(model, optimizer, s);
    }

    /** The step's settings, named, with their defaults. */
    public static final class Settings {
        /** The token the shifted inputs start with (default: the model config's bos_token_id). */
        public int bos;
        /** Weight of the pretraining gradient. */
        public double ptLossWeight = 0;
        /** Micro-batches per update: k in the batches' {@code [k, B, S]}. */
        public int accumulate = 1;
        /** Compute dtype of activations and matmuls; parameters stay f32. */
        public DType dtype = DType.F32;
        /** Recompute each block in the backward pass, keeping what {@link #rematPolicy} names. */
        public boolean remat = false;
        /** What a recomputed block keeps (the model config's remat_policy). */
        public RematPolicy rematPolicy = RematPolicy.NOTHING_SAVEABLE;
        /** Positions of the loss made at a time (0: all; see {@link LmLoss#of(io.cohx.models.LmHead, Tensor, Tensor, int)}). */
        public int lossChunk = 0;
        /** Queries of attention made at a time (0: all). */
        public int attentionChunk = 0;
        /** Seed of initialization, dropout and the forgetful causal mask. */
        public long seed = 0;

        private Settings(int bos) {
            this.bos = bos;
        }
    }

    /** What each block keeps and how the loss and attention are chunked. */
    public Memory memory() {
        return memory;
    }

    /** Model inputs for {@code tokens}: shifted right, restarting at each example when there are segment ids (else null). */
    private Tensor inputs(Tensor tokens, Tensor segmentIds) {
        return segmentIds == null ? LmLoss.shiftRight(tokens, bos) : LmLoss.shiftRight(tokens, bos, segmentIds);
    }

    private ForwardOptions options(Tensor key) {
        ModelConfig c = model.config();
        boolean random = c.fcmMaxRatio() > 0 || c.hasDropout();
        return new ForwardOptions(dtype, true, random ? key : null, c.fcmMinRatio(), c.fcmMaxRatio(), memory.remat(), memory.attentionChunk());
    }

    /** Loss and gradient of one micro-batch of one dataset. */
    private Autodiff.ValueAndGrad lossAndGrad(Tree<Tensor> params, Tensor tokens, Tensor masks, Tensor segmentIds, Tensor key) {
        Tensor inputs = inputs(tokens, segmentIds);
        ForwardOptions options = options(key).withSegmentIds(segmentIds);
        return Autodiff.valueAndGradWithAux(p -> {
            LmLoss.Result r = LmLoss.of(model.head(p, inputs, options), tokens, masks, memory.lossChunk());
            return new Autodiff.WithAux(r.loss(), Tree.of("accuracy", r.accuracy()));
        }, params);
    }

    /** Mean loss, accuracy and gradient over the k micro-batches of one dataset. */
    private record Accumulated(Tensor loss, Tensor accuracy, Tree<Tensor> grad) {}

    private Accumulated accumulate(Tree<Tensor> params, StepIo.Batch<Tensor> batch, Tensor key) {
        Tensor loss = null;
        Tensor acc = null;
        Tree<Tensor> grad = null;
        for (int i = 0; i < accumulate; i++) {
            Tensor t = batch.tokens().slice(0, i, i + 1).squeeze(0);
            Tensor m = batch.masks().slice(0, i, i + 1).squeeze(0);
            Tensor sg = batch.segments() == null ? null : batch.segments().slice(0, i, i + 1).squeeze(0);
            var vg = lossAndGrad(params, t, m, sg, Rng.foldIn(key, i));
            loss = loss == null ? vg.value() : loss.add(vg.value());
            Tensor a = vg.aux().get("accuracy");
            acc = acc == null ? a : acc.add(a);
            grad = grad == null ? vg.grad() : grad.zip(vg.grad(), Tensor::add);
        }
        if (accumulate > 1) {
            double inv = 1.0 / accumulate;
            loss = loss.mul(inv);
            acc = acc.mul(inv);
            grad = grad.map(g -> g.mul(inv));
        }
        return new Accumulated(loss, acc, grad);
    }

    /** The train-step function for {@link io.cohx.engine.Jit}: {@link StepIo.Inputs} to {@link StepIo.Outputs}. */
    public Function<Tree<Tensor>, Tree<Tensor>> function() {
        return tree -> {
            StepIo.Inputs<Tensor> in = StepIo.Inputs.from(tree);
            Tree<Tensor> params = in.params();
            Tensor key = Rng.foldIn(Rng.key(seed), in.step());
            List<Tensor> keys = Rng.splitKeys(key, 2);
            Accumulated hf = accumulate(params, in.hf(), keys.get(0));
            Tree<Tensor> grads = hf.grad();
            Tensor ptLoss = Constants.scalar(0, DType.F32);
            Tensor ptAcc = Constants.scalar(0, DType.F32);
            if (in.pt() != null) {
                Accumulated pt = accumulate(params, in.pt(), keys.get(1));
                grads = grads.zip(pt.grad(), (g, p) -> g.add(p.mul(ptWeight)));
                ptLoss = pt.loss();
                ptAcc = pt.accuracy();
            }
            Optimizer.Update u = optimizer.apply(params, grads, in.opt(), in.lr());
            var metrics = new StepIo.Metrics<>(hf.loss(), ptLoss, hf.accuracy(), ptAcc, u.gradNorm(), AdamW.globalNorm(u.params()));
            return new StepIo.Outputs<>(u.params(), u.state(), metrics).toTree();
        };
    }

    /** A compile of {@link #function()} named {@code name}, with the parameters and optimizer state donated (updated in place). */
    public Jit.Builder jit(String name) {
        return Jit.builder(name, function()).donate(StepIo.PARAMS, StepIo.OPT);
    }

    /** Evaluation of one batch with the params: {@link StepIo.EvalInputs} to {@link StepIo.EvalOutputs}. */
    public Function<Tree<Tensor>, Tree<Tensor>> evalFunction() {
        return tree -> {
            StepIo.EvalInputs<Tensor> in = StepIo.EvalInputs.from(tree);
            LmLoss.Result r = LmLoss.of(model.head(in.params(), inputs(in.tokens(), in.segments()),
                    ForwardOptions.EVAL.withDtype(dtype).withSegmentIds(in.segments()).withAttentionChunk(memory.attentionChunk())),
                    in.tokens(), in.masks(), memory.lossChunk());
            return new StepIo.EvalOutputs<>(r.loss(), r.accuracy()).toTree();
        };
    }

    /** Fresh parameters from the seed. */
    public Function<Tree<Tensor>, Tree<Tensor>> initFunction() {
        return in -> model.init(Rng.key(seed));
    }
}
