package io.cohx.coh.train;

import io.cohx.engine.ArrayType;
import io.cohx.engine.Autodiff;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.RematPolicy;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.engine.optim.AdamW;
import io.cohx.engine.optim.Optimizer;
import io.cohx.models.CausalLm;
import io.cohx.models.ForwardOptions;
import io.cohx.models.LmLoss;
import io.cohx.models.config.ModelConfigs;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The compiled train step against the model's own loss, and the hf/pt gradient weighting on a constructed case. */
class TrainStepTest {

    @Test
    void stepLossIsTheModelLossAndPretrainingWeightScalesItsGradient() {
        var mc = ModelConfigs.resolve("debug", "llama").withUpdates(
                ModelConfigs.parseOverrides("hidden_size=32,intermediate_size=64,num_hidden_layers=1,num_attention_heads=2,vocab_size=512", "test"), "test");
        CausalLm model = CausalLm.of(mc);
        var client = TestPlugins.cpuClient(1);
        var rnd = new Random(5);
        int b = 2, s = 16;
        int[] tokens = new int[b * s];
        float[] masks = new float[b * s];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rnd.nextInt(512);
            masks[i] = i % s < 4 ? 0 : 1; // a masked prompt at the start of each row
        }
        NdArray t3 = NdArray.of(tokens, 1, b, s), m3 = NdArray.of(masks, 1, b, s);
        AdamW opt = AdamW.defaults().withDecayMask(model::decays);
        double[] norms = new double[2];
        double stepLoss = 0, refLoss = 0;
        for (int w = 0; w <= 1; w++) {
            // Identical feedback and pretraining batches: combined gradient = (1 + w) * feedback gradient.
            double weight = w;
            var ts = TrainStep.of(model, opt, settings -> {
                settings.bos = 0;
                settings.ptLossWeight = weight;
                settings.seed = 3;
            });
            Tree<DeviceArray> params;
            try (Jit init = Jit.builder("init", ts.initFunction()).build(client)) {
                params = init.call(Tree.empty());
            }
            try (Jit eval = Jit.builder("eval", ts.evalFunction()).build(client);
                 Jit step = ts.jit("step").build(client)) {
                Tree<Object> p = params.map(x -> x);
                var evalIn = new StepIo.EvalInputs<Object>(p, NdArray.of(tokens, b, s), NdArray.of(masks, b, s));
                refLoss = StepIo.EvalOutputs.from(eval.call(evalIn.toTree())).loss().toHost().get(0);
                var batch = new StepIo.Batch<Object>(t3, m3);
                var in = new StepIo.Inputs<Object>(p, opt.init(model.paramTypes()).map(x -> x), batch, batch,
                        NdArray.scalar(DType.F32, 1e-3), NdArray.scalar(DType.S32, 0));
                Tree<DeviceArray> outTree = step.call(in.toTree());
                StepIo.Metrics<DeviceArray> out = StepIo.Outputs.from(outTree).metrics();
                stepLoss = out.hfLoss().toHost().get(0);
                assertEquals(stepLoss, out.ptLoss().toHost().get(0), 1e-7);
                norms[w] = out.gradientNorm().toHost().get(0);
                outTree.values().forEach(DeviceArray::close);
            }
            assertEquals(refLoss, stepLoss, 1e-6, "the train step's hf_loss is the model's loss on the batch");
        }
        assertEquals(2 * norms[0], norms[1], 1e-5 * norms[1], "pt_loss_weight 1 doubles the gradient of identical batches");
    }

    /** An "optimizer" whose new parameters are the gradients it is given, so a step's output is its gradient. */
    private static final Optimizer GRADIENT_OUT = new Optimizer() {
        @Override
        public Tree<ArrayType> stateTypes(Tree<ArrayType> types) {
            return Tree.of("unused", ArrayType.of(DType.F32)); // a state the step can carry through
        }

        @Override
        public Update apply(Tree<Tensor> params, Tree<Tensor> grads, Tree<Tensor> state, Tensor lr) {
            return new Update(grads, state, AdamW.globalNorm(grads));
        }
    };

    /**
     * Feedback and pretraining batches of different rows, masks and batch sizes, two micro-batches,
     * go through the model stacked as one batch: the step's gradient and metrics against each
     * dataset's loss differentiated on its own and combined as {@code g_hf + 0.01 g_pt}, with the
     * whole loss and with the chunked one.
     */
    @Test
    void stackedBatchesGiveTheSeparatelyCombinedGradient() {
        var mc = ModelConfigs.resolve("debug", "llama").withUpdates(
                ModelConfigs.parseOverrides("hidden_size=32,intermediate_size=64,num_hidden_layers=2,num_attention_heads=2,vocab_size=512", "test"), "test");
        CausalLm model = CausalLm.of(mc);
        var client = TestPlugins.cpuClient(1);
        var rnd = new Random(11);
        int k = 2, s = 16, bh = 2, bp = 3, bos = 0;
        double ptWeight = 0.01;
        NdArray[] hf = batch(rnd, k, bh, s, 3);
        NdArray[] pt = batch(rnd, k, bp, s, 0);
        for (int chunk : new int[] {0, 4}) {
            var ts = TrainStep.of(model, GRADIENT_OUT, settings -> {
                settings.bos = bos;
                settings.ptLossWeight = ptWeight;
                settings.accumulate = k;
                settings.seed = 3;
                settings.remat = true;
                settings.rematPolicy = RematPolicy.NOTHING_SAVEABLE;
                settings.lossChunk = chunk;
            });
            Tree<DeviceArray> params;
            try (Jit init = Jit.builder("init", ts.initFunction()).build(client)) {
                params = init.call(Tree.empty());
            }
            // The reference: each dataset's mean micro-batch loss differentiated on its own, unchunked, no remat.
            Jit ref = Jit.builder("ref", t -> {
                Tree<Tensor> p = t.subtree("params");
                Tree<Tensor> out = Tree.empty();
                Tree<Tensor> grad = null;
                for (String d : new String[] {"hf", "pt"}) {
                    double scale = d.equals("hf") ? 1 : ptWeight;
                    for (int i = 0; i < k; i++) {
                        Tensor tokens = t.get(d + ".tokens").slice(0, i, i + 1).squeeze(0);
                        Tensor masks = t.get(d + ".masks").slice(0, i, i + 1).squeeze(0);
                        Tensor ids = LmLoss.shiftRight(tokens, bos);
                        var vg = Autodiff.valueAndGrad(q -> LmLoss.of(model.logits(q, ids, ForwardOptions.EVAL), tokens, masks).loss(), p);
                        Tree<Tensor> g = vg.grad().map(x -> x.mul(scale / k));
                        grad = grad == null ? g : grad.zip(g, Tensor::add);
                        String name = d + "_loss";
                        out = out.with(name, out.has(name) ? out.get(name).add(vg.value().mul(1.0 / k)) : vg.value().mul(1.0 / k));
                    }
                }
                return out.nest("grad", grad);
            }).build(client);
            Tree<Object> refIn = Tree.<Object>empty().nest("params", params.map(x -> (Object) x))
                    .with("hf.tokens", hf[0]).with("hf.masks", hf[1]).with("pt.tokens", pt[0]).with("pt.masks", pt[1]);
            Tree<DeviceArray> want = ref.call(refIn);
            try (Jit step = ts.jit("step").build(client)) {
                var in = new StepIo.Inputs<Object>(params.map(x -> x), GRADIENT_OUT.init(model.paramTypes()).map(x -> x), new StepIo.Batch<>(hf[0], hf[1]),
                        new StepIo.Batch<>(pt[0], pt[1]), NdArray.scalar(DType.F32, 1e-3), NdArray.scalar(DType.S32, 0));
                var out = StepIo.Outputs.from(step.call(in.toTree()));
                assertEquals(want.get("hf_loss").toHost().get(0), out.metrics().hfLoss().toHost().get(0), 1e-6, "hf_loss, chunk " + chunk);
                assertEquals(want.get("pt_loss").toHost().get(0), out.metrics().ptLoss().toHost().get(0), 1e-6, "pt_loss, chunk " + chunk);
                out.opt().values().forEach(DeviceArray::close);
                out.metrics().toTree().values().forEach(DeviceArray::close);
                Tree<DeviceArray> got = out.params();
                for (String path : got.paths()) {
                    float[] g = got.get(path).toHost().toFloatArray();
                    float[] w = want.get("grad." + path).toHost().toFloatArray();
                    double scale = 0;
                    for (float x : w) {
                        scale = Math.max(scale, Math.abs(x));
                    }
                    assertTrue(scale > 0, path + ": a gradient that could be wrong");
                    for (int i = 0; i < g.length; i++) {
                        assertEquals(w[i], g[i], 1e-5 * scale, path + "[" + i + "], chunk " + chunk);
                    }
                }
                got.values().forEach(DeviceArray::close);
            }
            want.values().forEach(DeviceArray::close);
            ref.close();
        }
    }

    /** {@code [k, b, s]} random tokens and masks whose first {@code prompt} positions of each row are masked. */
    private static NdArray[] batch(Random rnd, int k, int b, int s, int prompt) {
        int[] tokens = new int[k * b * s];
        float[] masks = new float[k * b * s];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rnd.nextInt(512);
            masks[i] = i % s < prompt ? 0 : 1;
        }
        return new NdArray[] {NdArray.of(tokens, k, b, s), NdArray.of(masks, k, b, s)};
    }
}
