package io.cohx.coh.train;

import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.engine.optim.AdamW;
import io.cohx.models.CausalLm;
import io.cohx.models.config.ModelConfigs;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
