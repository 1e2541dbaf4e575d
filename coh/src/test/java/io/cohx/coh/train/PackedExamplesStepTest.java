package io.cohx.coh.train;

import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.engine.optim.AdamW;
import io.cohx.models.CausalLm;
import io.cohx.models.config.ModelConfigs;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --no-cross-example-attention} in the train step: with segment ids the step's hf_loss on a
 * row packing three examples equals the loss of the three examples each trained alone (their
 * masked token losses summed over the row's mask), as does the eval function; without them it
 * does not. A grouped-query LLaMA, so the segment mask meets GQA too.
 */
class PackedExamplesStepTest {
    static final int[] LENGTHS = {5, 7, 4};
    static final int S = 16;

    @Test
    void packedStepLossIsTheLossOfTheExamplesAlone() {
        var mc = ModelConfigs.resolve("debug", "llama").withUpdates(ModelConfigs.parseOverrides(
                "hidden_size=32,intermediate_size=64,num_hidden_layers=1,num_attention_heads=4,num_key_value_heads=2,vocab_size=512",
                "test"), "test");
        CausalLm model = CausalLm.of(mc);
        PjrtClient client = TestPlugins.cpuClient(1);
        var rnd = new Random(3);
        int[] tokens = new int[S];
        float[] masks = new float[S];
        int[] segments = new int[S];
        int at = 0;
        for (int e = 0; e < LENGTHS.length; e++) {
            for (int i = 0; i < LENGTHS[e]; i++) {
                tokens[at + i] = 3 + rnd.nextInt(500);
                masks[at + i] = i == 0 ? 0 : 1; // each example opens with a masked prompt token
                segments[at + i] = e + 1;
            }
            at += LENGTHS[e];
        }
        AdamW opt = AdamW.defaults().withDecayMask(model::decays);
        var program = TrainStep.of(model, opt, s -> {
            s.bos = 1;
            s.seed = 3;
        });
        Tree<Object> params;
        try (Jit init = Jit.builder("init", program.initFunction()).build(client)) {
            params = init.call(Tree.empty()).map(x -> x);
        }
        double sum = 0;
        double count = 0;
        try (Jit eval = Jit.builder("eval", program.evalFunction()).build(client);
             Jit evalPacked = Jit.builder("eval_packed", program.evalFunction()).build(client);
             Jit step = program.jit("step_packed").build(client)) {
            at = 0;
            for (int len : LENGTHS) {
                float[] m = Arrays.copyOfRange(masks, at, at + len);
                var in = new StepIo.EvalInputs<Object>(params, NdArray.of(Arrays.copyOfRange(tokens, at, at + len), 1, len),
                        NdArray.of(m, 1, len));
                double n = 0;
                for (float x : m) {
                    n += x;
                }
                sum += loss(eval, in) * n;
                count += n;
                at += len;
            }
            double alone = sum / count;
            NdArray rowTokens = NdArray.of(tokens, 1, S), rowMasks = NdArray.of(masks, 1, S);
            double packedEval = loss(evalPacked, new StepIo.EvalInputs<Object>(params, rowTokens, rowMasks, NdArray.of(segments, 1, S)));
            double crossEval = loss(eval, new StepIo.EvalInputs<Object>(params, rowTokens, rowMasks));
            var batch = new StepIo.Batch<Object>(NdArray.of(tokens, 1, 1, S), NdArray.of(masks, 1, 1, S), NdArray.of(segments, 1, 1, S));
            var in = new StepIo.Inputs<Object>(params, opt.init(model.paramTypes()).map(x -> x), batch, null,
                    NdArray.scalar(DType.F32, 1e-3), NdArray.scalar(DType.S32, 0));
            Tree<DeviceArray> out = step.call(in.toTree());
            double stepLoss = StepIo.Outputs.from(out).metrics().hfLoss().toHost().get(0);
            out.values().forEach(DeviceArray::close);
            System.out.printf("{\"test\":\"packed_step\",\"alone\":%.7f,\"packed_eval\":%.7f,\"packed_step\":%.7f,\"cross_attention\":%.7f}%n",
                    alone, packedEval, stepLoss, crossEval);
            assertEquals(alone, packedEval, 1e-5, "eval with segment ids = the examples alone");
            assertEquals(alone, stepLoss, 1e-5, "train step with segment ids = the examples alone");
            assertTrue(Math.abs(crossEval - alone) > 1e-4, "with cross-example attention the loss differs");
        }
    }

    private static double loss(Jit eval, StepIo.EvalInputs<Object> in) {
        return StepIo.EvalOutputs.from(eval.call(in.toTree())).loss().toHost().get(0);
    }
}
