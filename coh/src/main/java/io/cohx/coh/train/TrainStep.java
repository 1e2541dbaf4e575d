package io.cohx.coh.train;

import io.cohx.engine.Autodiff;
import io.cohx.engine.Constants;
import io.cohx.engine.DType;
import io.cohx.engine.Rng;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.engine.optim.AdamW;
import io.cohx.engine.optim.Optimizer;
import io.cohx.models.CausalLm;
import io.cohx.models.ForwardOptions;
import io.cohx.models.LmLoss;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The traced programs of training, as functions of parameter trees (compiled by the trainer with
 * {@link io.cohx.engine.Jit}). The train step computes the CoH (feedback) loss and the pretraining
 * loss with their gradients, combines them as {@code g_hf + pt_loss_weight * g_pt}, and applies
 * one optimizer update, all in one program. Inputs:
 * <ul>
 *   <li>{@code params.*}, {@code opt.*}: model and optimizer state (donated, updated in place);</li>
 *   <li>{@code hf.tokens} s32 and {@code hf.masks} f32 of shape {@code [k, B, S]} for k accumulated
 *       micro-batches (k = {@code accumulate_gradient_steps}), {@code pt.*} likewise when pretraining is on;</li>
 *   <li>{@code lr} (f32 scalar, from the host schedule) and {@code step} (s32 scalar, for the RNG);</li>
 *   <li>with {@link #withSegmentIds()}: {@code hf.segments} (and {@code pt.segments}) s32 {@code [k, B, S]},
 *       the packer's example numbers, so that packed examples do not attend to each other (the
 *       eval function then takes {@code segments [B, S]} too).</li>
 * </ul>
 * Outputs: {@code params.*}, {@code opt.*} and {@code metrics.*} (hf_loss, hf_accuracy, pt_loss,
 * pt_accuracy, gradient_norm, param_norm).
 */
public final class TrainStep {
    private final CausalLm model;
    private final Optimizer optimizer;
    private final int bos;
    private final double ptWeight;
    private final boolean pretraining;
    private final int accumulate;
    private final DType dtype;
    private final double fcmMin;
    private final double fcmMax;
    private final boolean remat;
    private final long seed;
    private final boolean dropout;
    private final boolean segments;

    public TrainStep(CausalLm model, Optimizer optimizer, int bos, double ptWeight, boolean pretraining, int accumulate,
                     DType dtype, double fcmMin, double fcmMax, boolean remat, long seed, boolean dropout) {
        this(model, optimizer, bos, ptWeight, pretraining, accumulate, dtype, fcmMin, fcmMax, remat, seed, dropout, false);
    }

    private TrainStep(CausalLm model, Optimizer optimizer, int bos, double ptWeight, boolean pretraining, int accumulate,
                      DType dtype, double fcmMin, double fcmMax, boolean remat, long seed, boolean dropout, boolean segments) {
        this.model = model;
        this.optimizer = optimizer;
        this.bos = bos;
        this.ptWeight = ptWeight;
        this.pretraining = pretraining;
        this.accumulate = accumulate;
        this.dtype = dtype;
        this.fcmMin = fcmMin;
        this.fcmMax = fcmMax;
        this.remat = remat;
        this.seed = seed;
        this.dropout = dropout;
        this.segments = segments;
    }

    /** The same programs taking segment ids: packed examples attend only within themselves. */
    public TrainStep withSegmentIds() {
        return new TrainStep(model, optimizer, bos, ptWeight, pretraining, accumulate, dtype, fcmMin, fcmMax, remat, seed,
                dropout, true);
    }

    /** Whether the programs take segment ids. */
    public boolean segmentIds() {
        return segments;
    }

    /** Model inputs and options for {@code tokens} (and their segment ids, or null). */
    private Tensor inputs(Tensor tokens, Tensor segmentIds) {
        return segmentIds == null ? LmLoss.shiftRight(tokens, bos) : LmLoss.shiftRight(tokens, bos, segmentIds);
    }

    private ForwardOptions options(Tensor key) {
        boolean random = fcmMax > 0 || dropout;
        return new ForwardOptions(dtype, true, random ? key : null, fcmMin, fcmMax, remat);
    }

    /** Loss and gradient of one micro-batch of one dataset. */
    private Autodiff.ValueAndGrad lossAndGrad(Tree<Tensor> params, Tensor tokens, Tensor masks, Tensor segmentIds, Tensor key) {
        Tensor inputs = inputs(tokens, segmentIds);
        ForwardOptions options = options(key).withSegmentIds(segmentIds);
        return Autodiff.valueAndGradWithAux(p -> {
            LmLoss.Result r = LmLoss.of(model.logits(p, inputs, options), tokens, masks);
            return new Autodiff.WithAux(r.loss(), Tree.of("accuracy", r.accuracy()));
        }, params);
    }

    /** Mean loss, accuracy and gradient over the k micro-batches of {@code prefix} (hf or pt). */
    private record Accumulated(Tensor loss, Tensor accuracy, Tree<Tensor> grad) {}

    private Accumulated accumulate(Tree<Tensor> params, Tree<Tensor> in, String prefix, Tensor key) {
        Tensor tokens = in.get(prefix + ".tokens");
        Tensor masks = in.get(prefix + ".masks");
        Tensor segs = segments ? in.get(prefix + ".segments") : null;
        Tensor loss = null;
        Tensor acc = null;
        Tree<Tensor> grad = null;
        for (int i = 0; i < accumulate; i++) {
            Tensor t = tokens.slice(0, i, i + 1).squeeze(0);
            Tensor m = masks.slice(0, i, i + 1).squeeze(0);
            Tensor sg = segs == null ? null : segs.slice(0, i, i + 1).squeeze(0);
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

    /** The train-step function for {@link io.cohx.engine.Jit}. */
    public Function<Tree<Tensor>, Tree<Tensor>> function() {
        return in -> {
            Tree<Tensor> params = in.subtree("params");
            Tensor key = Rng.foldIn(Rng.key(seed), in.get("step"));
            List<Tensor> keys = Rng.splitKeys(key, 2);
            Accumulated hf = accumulate(params, in, "hf", keys.get(0));
            Tree<Tensor> grads = hf.grad();
            Tensor ptLoss = Constants.scalar(0, DType.F32);
            Tensor ptAcc = Constants.scalar(0, DType.F32);
            if (pretraining) {
                Accumulated pt = accumulate(params, in, "pt", keys.get(1));
                grads = grads.zip(pt.grad(), (g, p) -> g.add(p.mul(ptWeight)));
                ptLoss = pt.loss();
                ptAcc = pt.accuracy();
            }
            Optimizer.Update u = optimizer.apply(params, grads, in.subtree("opt"), in.get("lr"));
            Tree<Tensor> metrics = Tree.<Tensor>empty()
                    .with("hf_loss", hf.loss()).with("hf_accuracy", hf.accuracy())
                    .with("pt_loss", ptLoss).with("pt_accuracy", ptAcc)
                    .with("gradient_norm", u.gradNorm()).with("param_norm", AdamW.globalNorm(u.params()));
            return Tree.<Tensor>empty().nest("params", u.params()).nest("opt", u.state()).nest("metrics", metrics);
        };
    }

    /** Evaluation of one batch ({@code tokens}, {@code masks} [B, S], and {@code segments}) with {@code params}: loss and accuracy. */
    public Function<Tree<Tensor>, Tree<Tensor>> evalFunction() {
        return in -> {
            Tensor tokens = in.get("tokens");
            Tensor segs = segments ? in.get("segments") : null;
            LmLoss.Result r = LmLoss.of(model.logits(in.subtree("params"), inputs(tokens, segs),
                    ForwardOptions.EVAL.withDtype(dtype).withSegmentIds(segs)), tokens, in.get("masks"));
            return Tree.of("loss", r.loss(), "accuracy", r.accuracy());
        };
    }

    /** Fresh parameters from the seed. */
    public Function<Tree<Tensor>, Tree<Tensor>> initFunction() {
        return in -> model.init(Rng.key(seed));
    }

    /** Names of the metrics the train step returns, in log order. */
    public static List<String> metricNames() {
        return new ArrayList<>(List.of("hf_loss", "pt_loss", "hf_accuracy", "pt_accuracy", "gradient_norm", "param_norm"));
    }
}
