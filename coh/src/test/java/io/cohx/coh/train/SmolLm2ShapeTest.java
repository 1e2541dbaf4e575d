package io.cohx.coh.train;

import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.engine.optim.AdamW;
import io.cohx.models.CausalLm;
import io.cohx.models.ForwardOptions;
import io.cohx.models.config.LlamaConfig;
import io.cohx.models.generate.Buckets;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Sampling;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SmolLM2-135M's exact shape (hidden 576, 9 query heads over 3 key/value heads of 64, SwiGLU
 * 1536, vocabulary 49152, tied embeddings, rotary base 100000, RMSNorm eps 1e-5) read from its
 * Hugging Face config keys, with 2 of its 30 layers and random weights: two CoH train steps on one
 * batch (finite loss near ln(vocab) that then falls), and greedy generation with the KV cache from
 * the trained weights equal to argmax decoding by full forward passes.
 */
class SmolLm2ShapeTest {
    static final int B = 2, S = 32, NEW = 6, CACHE = 32;

    static LlamaConfig config() {
        var hf = new LinkedHashMap<String, Object>();
        hf.put("architectures", List.of("LlamaForCausalLM"));
        hf.put("model_type", "llama");
        hf.put("hidden_size", 576);
        hf.put("intermediate_size", 1536);
        hf.put("num_hidden_layers", 2);
        hf.put("num_attention_heads", 9);
        hf.put("num_key_value_heads", 3);
        hf.put("head_dim", 64);
        hf.put("max_position_embeddings", 8192);
        hf.put("rms_norm_eps", 1e-5);
        hf.put("rope_theta", 100000);
        hf.put("rope_scaling", null);
        hf.put("tie_word_embeddings", true);
        hf.put("vocab_size", 49152);
        hf.put("bos_token_id", 1);
        hf.put("eos_token_id", 2);
        hf.put("initializer_range", 0.041666666666666664);
        return LlamaConfig.fromHf(hf, "SmolLM2-135M config with 2 layers");
    }

    @Test
    void trainStepAndGenerationAtSmolLm2Shape() {
        LlamaConfig c = config();
        assertEquals(3, c.numKvHeads());
        assertEquals(64, c.headDim());
        CausalLm lm = CausalLm.of(c);
        assertEquals(false, lm.paramTypes().has("lm_head.kernel"), "tied: no head of its own");
        assertEquals(List.of(576, 192), List.of(lm.paramTypes().get("transformer.h.0.attention.wk.kernel").shape().dims()[0],
                lm.paramTypes().get("transformer.h.0.attention.wk.kernel").shape().dims()[1]));
        PjrtClient client = TestPlugins.cpuClient(1);
        AdamW opt = AdamW.defaults().withDecayMask(lm::decays);
        var program = TrainStep.of(lm, opt, s -> s.seed = 11);
        var rnd = new Random(2);
        int[] tokens = new int[B * S];
        float[] masks = new float[B * S];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = 3 + rnd.nextInt(c.vocabSize() - 3);
            masks[i] = i % S < 8 ? 0 : 1;
        }
        Tree<Object> params;
        try (Jit init = Jit.builder("smol_init", program.initFunction()).build(client)) {
            params = init.call(Tree.empty()).map(x -> x);
        }
        double[] losses = new double[2];
        Tree<Object> optState = opt.init(lm.paramTypes()).map(x -> x);
        var batch = new StepIo.Batch<Object>(NdArray.of(tokens, 1, B, S), NdArray.of(masks, 1, B, S));
        try (Jit step = program.jit("smol_step").build(client)) {
            for (int k = 0; k < 2; k++) {
                var in = new StepIo.Inputs<Object>(params, optState, batch, null, NdArray.scalar(DType.F32, 3e-3), NdArray.scalar(DType.S32, k));
                StepIo.Outputs<DeviceArray> out = StepIo.Outputs.from(step.call(in.toTree()));
                losses[k] = out.metrics().hfLoss().toHost().get(0);
                out.metrics().toTree().values().forEach(DeviceArray::close);
                params = out.params().map(x -> x);
                optState = out.opt().map(x -> x);
            }
        }
        System.out.printf("{\"test\":\"smollm2_shape\",\"loss_step_0\":%.4f,\"loss_step_1\":%.4f}%n", losses[0], losses[1]);
        assertEquals(Math.log(c.vocabSize()), losses[0], 0.5, "random weights predict nearly uniformly");
        assertTrue(losses[1] < losses[0] - 0.1, "the step lowers the loss on its batch: " + Arrays.toString(losses));

        Tree<DeviceArray> trained = params.map(o -> (DeviceArray) o);
        int[] prompt = Arrays.copyOf(tokens, 7);
        int[] greedy;
        try (var gen = new Generator(lm, trained, null, client, 1, CACHE, new Buckets(List.of(8)), DType.F32)) {
            greedy = gen.generate(List.of(new Generator.Request(prompt, NEW, Sampling.GREEDY))).getFirst().tokens();
        }
        int[] seq = Arrays.copyOf(prompt, CACHE);
        try (Jit argmax = Jit.builder("smol_argmax", t -> Tree.of("argmax",
                lm.logits(t.subtree("params"), t.get("ids"), ForwardOptions.EVAL).argmax(2))).build(client)) {
            for (int i = 0; i < NEW; i++) {
                Tree<DeviceArray> out = argmax.call(Tree.<Object>empty().nest("params", trained).with("ids", NdArray.of(seq, 1, CACHE)));
                try (DeviceArray a = out.get("argmax")) {
                    seq[prompt.length + i] = a.toHost().toIntArray()[prompt.length + i - 1];
                }
            }
        }
        assertArrayEquals(Arrays.copyOfRange(seq, prompt.length, prompt.length + NEW), greedy,
                "greedy generation with the KV cache = argmax of full forward passes");
        for (Tree<Object> t : List.of(params, optState)) {
            t.values().forEach(o -> ((DeviceArray) o).close());
        }
    }
}
